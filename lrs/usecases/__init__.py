"""The use-case floor: what spans stores, between the doors and the domains.

The doors (``lrs.api``, ``lrs.web``, ``lrs.cli``, ``lrs.imports``) parse input,
ask the access policy and call one use case here; the domains below keep
their records, rules, store interfaces and backends. Here:

- ``storage``: every store opened from one URL (the composition root);
- ``ingest``: a batch of statements stored with attachments, definitions,
  progress, and the erased identities pseudonymized;
- ``rebuild``: progress derived again from statements;
- ``erasure``, ``purge``, ``removal``: a learner's erasure, retention by age;
- ``exports``, ``export_kinds``: records written out, and the log of it;
- ``assignments``, ``webhook``: the assignment lifecycle and its notifications;
- ``reports``: the course and exam reports every door shows;
- ``repair``: what ``lrs check`` finds and mends.

A new use case that reaches several stores goes here, as one function that
every door calls.
"""
