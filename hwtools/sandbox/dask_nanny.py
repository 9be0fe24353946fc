"""``dask worker SCHEDULER --nworkers N --nthreads 1 --preload-nanny hwtools.sandbox.dask_nanny``: the
worker processes that one ``dask worker`` command starts on a machine share one warm server
(``hwtools.sandbox.warm``), as a LocalCluster's do: one set of imports (about 6 s) and ~0.9 GB per machine
instead of per worker process. The nannies run in that command's process, which starts the
server before they start their workers; the workers inherit its address. Only with file-system
isolation, which hides the server's socket from every sandbox (else each worker starts its own,
as without this module). The server ends with that command's process.
"""
from __future__ import annotations

import contextlib

from hwtools import sandbox

_sharing = contextlib.ExitStack()  # held until this process ends


def dask_setup(nanny) -> None:
    # the first nanny of this process starts the server; for the others, one is shared already
    _sharing.enter_context(sandbox.shared_warm_server())
