# nbjobs for a team: every user's Jupyter server (JupyterHub's single-user servers, or several
# servers behind a load balancer) shares one PostgreSQL job database, one Redis for events and
# one data directory mounted at the same path on every server (and every Dask worker).
#
#   jupyterhub_config.py:  c.Spawner.args = ["--config=/etc/nbjobs/jupyter_server_config.py"]
#   and in each server's environment:
#     NBJOBS_DATABASE_URL=postgresql://nbjobs@db.internal/nbjobs
#     NBJOBS_REDIS_URL=redis://redis.internal:6379/0
#     NBJOBS_DATA_DIR=/shared/nbjobs            (the same mount everywhere)
#
# tests/server/test_team.py starts two servers with exactly this file.
import os

c = get_config()  # noqa: F821 - provided by Jupyter when it loads this file

c.ServerApp.jpserver_extensions = {"nbjobs": True}
c.NbJobs.database_url = os.environ["NBJOBS_DATABASE_URL"]
c.NbJobs.redis_url = os.environ["NBJOBS_REDIS_URL"]
c.NbJobs.data_dir = os.environ["NBJOBS_DATA_DIR"]
# Each job belongs to the username the IdentityProvider gives (JupyterHub's user), never to the
# Unix user the server runs as: users see and cancel only their own jobs, on any server.
c.NbJobs.user_mode = "multi"
# A server that stops heartbeating for this long is dead: its running jobs are marked
# interrupted and its queued jobs run elsewhere.
c.NbJobs.lease_seconds = float(os.environ.get("NBJOBS_LEASE_SECONDS", "30"))
# Optional: jobs on a Dask cluster instead of this server's machine.
if os.environ.get("NBJOBS_DASK_SCHEDULER"):
    c.NbJobs.executor = "dask"
    c.DaskExecutor.scheduler_address = os.environ["NBJOBS_DASK_SCHEDULER"]
