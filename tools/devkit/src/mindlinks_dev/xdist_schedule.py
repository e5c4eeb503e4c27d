"""How ``pytest -n N --dist loadgroup`` shares the suite among its workers
(``mindlinks_dev.pytest_plugin`` hands xdist this scheduler).

xdist's own ``loadgroup`` sends every test on its own unless it carries an
``xdist_group`` mark, so a module-scoped world (``start_services``: several
real apps and their lifespans) would start on every worker that gets one of
its tests — and under pytest 9 its marks do not reach the scheduler at all
(xdist 3.8 renames ``item._nodeid``, which pytest 9 no longer reads). Here a
unit of work is a whole module, or a whole directory named in the
``xdist_group_dirs`` ini setting (``tests/e2e``: its fleet of real processes
starts once), and the directories go first: they are the longest units, and
a long unit handed out last leaves the other workers idle at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xdist.scheduler import LoadGroupScheduling
from xdist.workermanage import WorkerController

GROUP = "@"


class ModulesAndGroups(LoadGroupScheduling):  # type: ignore[misc] # xdist ships no types
    def __init__(self, config: Any, log: Any = None, groups: Sequence[str] = ()) -> None:
        super().__init__(config, log)
        self.groups = [group.rstrip("/") + "/" for group in groups]

    def _split_scope(self, nodeid: str) -> str:
        """A test in a group's directory → ``@<directory>``; any other → its module."""
        module = nodeid.split("::", 1)[0]
        group = next((g for g in self.groups if module.startswith(g)), None)
        return GROUP + group if group is not None else module

    def _assign_work_unit(self, node: WorkerController) -> None:
        """Hand out a waiting group before any module (then, as xdist does,
        the modules with the most tests first)."""
        group = next((scope for scope in self.workqueue if scope.startswith(GROUP)), None)
        if group is not None:
            self.workqueue.move_to_end(group, last=False)
        super()._assign_work_unit(node)
