"""What runs in the Jupyter server's process, on its event loop: the extension (``app``), the
REST handlers (``handlers``) and the intake of new jobs (``jobs``), identity (``auth``), the
Socket.IO server (``realtime``), the job store (``store`` contract, ``sql_store``), the
scheduler (``runner``) and the executors that run jobs (``executor`` contract,
``local_executor``), and the event sink contract (``events``).

Nothing here may block the event loop: file and database work runs in threads, normalization in
worker processes (``nbjobs.worker``). The kernel never imports this package.
"""
