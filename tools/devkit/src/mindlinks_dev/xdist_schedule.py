"""How ``pytest -n N --dist loadgroup`` shares the suite among its workers
(``mindlinks_dev.pytest_plugin`` hands xdist this scheduler).

xdist's own ``loadgroup`` keeps an ``xdist_group`` on one worker but sends
every other test on its own, so a module-scoped world (``start_services``:
several real apps and their lifespans) would start on every worker that gets
one of its tests. Here a unit of work is a whole module, or a whole group
(the end-to-end suite is one: its fleet of real processes starts once), and
the groups go first: they are the longest units, and a long unit handed out
last leaves the other workers idle at the end.
"""

from __future__ import annotations

from xdist.scheduler import LoadGroupScheduling
from xdist.workermanage import WorkerController

GROUP = "@"


class ModulesAndGroups(LoadGroupScheduling):  # type: ignore[misc] # xdist ships no types
    def _split_scope(self, nodeid: str) -> str:
        """``path::test@group`` → ``@group``; any other test → its module's path."""
        if nodeid.rfind(GROUP) > nodeid.rfind("]"):  # an "@" in a parameter is no group
            return GROUP + nodeid.rsplit(GROUP, 1)[1]
        return nodeid.split("::", 1)[0]

    def _assign_work_unit(self, node: WorkerController) -> None:
        """Hand out a waiting group before any module (then, as xdist does,
        the modules with the most tests first)."""
        group = next((scope for scope in self.workqueue if scope.startswith(GROUP)), None)
        if group is not None:
            self.workqueue.move_to_end(group, last=False)
        super()._assign_work_unit(node)
