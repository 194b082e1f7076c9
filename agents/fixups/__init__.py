"""Workarounds for Faust and aiokafka, fenced in one place (faust's own ``faust/fixups/`` is the model).

This package is the only code of edfi-stream that reads or writes a private name (``_name``) of Faust,
aiokafka or mode, or swaps one of their modules. Everything else calls the functions here. Each fix is
one module, and each module's docstring opens with four headings:

* **Symptom**: what goes wrong upstream without it (or which API is missing);
* **Faust**: the upstream function(s) or attribute(s) involved;
* **Seen with**: the versions where it was seen and the fix checked;
* **Remove when**: how to prove the fix is no longer needed, and what to delete then.

Names are read with plain attribute access, never ``getattr(obj, "_name", default)``: a Faust release that
renames one of them must fail loudly (``AttributeError``), not silently turn into "no buffers" or "not
committing". ``tests/unit/agents/test_fixups_contract.py`` builds real Faust objects (an App, an agent's
stream, a consumer, a table, the producer) and calls every function here, so such a release fails CI.

The fixes:

* :mod:`agents.fixups.commit_holes`: the consumer's acknowledgement bookkeeping, read by the commit repair
  (:mod:`agents.commit_repair`);
* :mod:`agents.fixups.stream_buffers`: the records waiting in the stream buffers (channel queues);
* :mod:`agents.fixups.current_event`: making an event "current" so a table change goes to its partition;
* :mod:`agents.fixups.changelog_metadata`: keeping a changelog topic in the producer's metadata;
* :mod:`agents.fixups.fetch_wait`: the consumer's ``fetch_max_wait_ms`` Faust hard-codes;
* :mod:`agents.fixups.group_offsets`: the group offsets the replay rewinds (``worker.replayFrom``);
* :mod:`agents.fixups.topic_metadata`: a metadata refresh of a plain aiokafka consumer;
* :mod:`agents.fixups.seek_start`: a partition never committed is sought to its log start after a drop;
* :mod:`agents.fixups.held_acks`: the events an agent works on stay unacknowledged until its body is done;
* :mod:`agents.fixups.head_gap`: commits wait at one missing record at the committed offset (commit repair);
* :mod:`agents.fixups.gap_check`: a gap in a partition's offsets is recorded only where the broker holds no record.
"""

from __future__ import annotations

FIXES = (
    "commit_holes",
    "stream_buffers",
    "current_event",
    "changelog_metadata",
    "fetch_wait",
    "group_offsets",
    "topic_metadata",
    "seek_start",
    "held_acks",
    "head_gap",
    "gap_check",
)
