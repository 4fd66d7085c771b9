"""The notebook API: ``normalize``, ``detect``, ``jobs`` and ``connect``."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import InputError
from . import connection as _connection
from .detection import Detected
from .job import Job

if TYPE_CHECKING:
    from .widgets import JobsTable

__all__ = ["arrow_stream", "connect", "detect", "jobs", "normalize", "request_detection", "submit"]

if TYPE_CHECKING:
    import pandas as pd

ARROW_STREAM = "application/vnd.apache.arrow.stream"
CONTENT_TYPES = {
    ".csv": "text/csv",
    ".arrow": ARROW_STREAM,
    ".arrows": ARROW_STREAM,
    ".parquet": "application/vnd.apache.parquet",
}
# The server detects from this many first rows; a DataFrame is sent only that far.
DETECT_ROWS = 500


def connect(url: str | None = None, token: str | None = None) -> _connection.Connection:
    """Use the Jupyter server at ``url`` (e.g. ``http://127.0.0.1:8888/base/``) with ``token``.

    Without arguments: find a server again (``NBJOBS_URL``, JupyterHub, the server running
    this kernel, any local server with nbjobs), or start a private one.
    """
    return _connection.connect(url, token)


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def arrow_stream(df: pd.DataFrame) -> bytes:
    """The DataFrame as an Arrow IPC stream (no index)."""
    import pandas as pd
    import pyarrow as pa

    frame = df.rename(columns=str)
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        # Mixed-type object columns (numbers and strings, say) have no Arrow type; the server
        # normalizes text anyway, so they go as strings, missing values kept missing.
        frame = frame.astype(object).map(lambda v: None if pd.isna(v) else str(v))
        table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _upload(data: Any, name: str | None) -> tuple[tuple[str, Any, str], str | None]:
    """The multipart ``file`` part for a DataFrame or a local file, and the input name."""
    if isinstance(data, (str, os.PathLike)):
        path = Path(data).expanduser()
        if not path.is_file():
            raise InputError(f"No such file: {str(path)!r}.")
        content_type = CONTENT_TYPES.get(path.suffix.lower(), "text/csv")
        return (path.name, path.read_bytes(), content_type), name or path.name
    if hasattr(data, "columns") and hasattr(data, "dtypes"):
        return ("dataframe.arrow", arrow_stream(data), ARROW_STREAM), name or "DataFrame"
    raise InputError(
        f"normalize() takes a pandas DataFrame or the path of a CSV, Arrow or Parquet file, "
        f"not {type(data).__name__}."
    )


def submit(
    connection: _connection.Connection,
    data: Any,
    columns: Mapping[str, Any] | None,
    *,
    name: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> Job:
    """Upload ``data`` and create a job; returns once the server has accepted it (201).

    ``columns`` None (or a type ``"auto"``) lets the server detect the types from the data."""
    if columns is not None and not isinstance(columns, Mapping):  # entries: checked by the server
        raise InputError(
            'columns must be a mapping of column name to field type, e.g. {"Phone": "phone"}.'
        )
    file_part, input_name = _upload(data, name)
    spec = "auto" if columns is None else json.dumps(dict(columns))
    fields: dict[str, Any] = {"columns": spec}
    if options:
        fields["options"] = json.dumps(dict(options))
    if input_name:
        fields["name"] = input_name
    info = connection.post_json("jobs", data=fields, files={"file": file_part})
    return connection.job(info)


def normalize(
    data: pd.DataFrame | str | os.PathLike[str],
    columns: Mapping[str, Any] | None = None,
    *,
    name: str | None = None,
    display: bool = True,
    **options: Any,
) -> Job:
    """Normalize ``data`` in the background on the Jupyter server; returns the Job at once.

    ``data``: a DataFrame or the path of a local CSV, Arrow IPC or Parquet file.
    ``columns``: column name -> field type (``nbjobs fields`` lists them), e.g.
    ``{"Full Name": "name", "Phone": "phone"}``; omitted (or a type ``"auto"``), the server
    detects the types from the first rows. A combination builds a new column from several,
    e.g. ``{"Name": {"type": "name", "from": ["First", "Last"]}}`` (see ``detect``).
    ``name``: the input name shown in job lists.
    ``options``: engine options, e.g. ``default_region="GB"``.
    In IPython with ``display=True`` a live progress widget is shown in the cell.
    A spec or input the server refuses raises its error (``BadRequest``, ``SpecError``, ...).
    """
    show = display and _in_ipython()
    if show:
        # ipywidgets takes a moment to import: before the job starts, not while it runs.
        from . import widgets  # noqa: F401
    job = submit(_connection.current(), data, columns, name=name, options=options)
    if show:
        job.display()
    return job


def request_detection(
    connection: _connection.Connection,
    data: Any,
    *,
    options: Mapping[str, Any] | None = None,
) -> Detected:
    """Upload ``data`` (a DataFrame only as far as the server reads it) to ``POST detect``."""
    if hasattr(data, "columns") and hasattr(data, "head"):
        data = data.head(DETECT_ROWS)
    file_part, input_name = _upload(data, None)
    fields: dict[str, Any] = {}
    if options:
        fields["options"] = json.dumps(dict(options))
    info = connection.post_json("detect", data=fields, files={"file": file_part})
    if input_name and file_part[0] == "dataframe.arrow":
        info["inputName"] = input_name
    return Detected(info)


def detect(data: pd.DataFrame | str | os.PathLike[str], **options: Any) -> Detected:
    """The field type the server detects for each column of ``data`` (from its first 500 rows),
    and suggested combinations of fragmented columns (First + Last -> Name), each with a
    confidence and a 3-row preview. Nothing is applied until you pass ``.spec()`` to
    ``normalize``: ``nbjobs.normalize(df, columns=nbjobs.detect(df).spec(accept=True))``.
    ``options``: engine options, e.g. ``default_region="GB"`` (phones are checked with them).
    """
    return request_detection(_connection.current(), data, options=options)


def jobs(limit: int = 50) -> JobsTable:
    """A live table of your latest jobs, updated as their events arrive."""
    from .widgets import JobsTable

    connection = _connection.current()
    return connection.add_table(JobsTable(limit=limit, live=connection.live))
