"""What runs in worker processes: the job loop (``job``), atomic outputs (``outputs``), the
pool that parses a job's distinct values on every core (``chunk_pool``, ``pool_process``), the
input readers (``inputs``), and what a worker is told (``settings``).

Nothing here runs on the Jupyter server's event loop, and nothing here is imported by the
kernel. This package's ``__init__`` imports nothing, so a pool process loads only
``pool_process`` and the field types' libraries.
"""
