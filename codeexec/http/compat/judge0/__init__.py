"""Judge0 CE 1.13.1's API (under ``CODEEXEC_JUDGE0_PREFIX``, default ``/judge0``), so a
Judge0 client works by changing its base URL.

A Judge0 submission is an ad-hoc run (``codeexec.intake.ad_hoc``) queued as a job by
``runs_view.submit_run``: the same intake, sandbox, limits, verdicts and job machinery
as every door. This module only maps: Judge0's request fields onto a run (validated
with Judge0's limits and its Rails-style 422 messages, the limits being codeexec's
own, as ``/config_info`` reports them), and a job back onto Judge0's fields, statuses
and formats. What the request said that codeexec does not keep elsewhere (the language
id asked for, limits echoed back) is the job's ``door_data``. docs/compat.md has the
field-by-field table.
"""

from codeexec.http.compat.judge0.render import DOOR, FIELDS, callback
from codeexec.http.compat.judge0.routes import add_routes

__all__ = ["DOOR", "FIELDS", "add_routes", "callback"]
