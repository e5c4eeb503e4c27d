"""Events out of the signature service (it consumes none).

Publishes, each in the transaction that records the signature or decline
(``signing.Signatures``): ``signature.client-signed`` (SignatureRecorded),
``signature.completed`` (SignatureCompleted: both signature ids, the original's
and the final document's SHA-256, both ledger entry ids) and
``signature.declined`` (SignatureDeclined). The ledger consumes
``signature.completed`` to activate the contract; notification mails the parties.
"""

from __future__ import annotations

from mindlinks_kit.events.consumer import Handler
from mindlinks_signature.deps import SignatureDeps


def handlers(deps: SignatureDeps) -> dict[str, Handler]:
    return {}
