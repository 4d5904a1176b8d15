"""``logfilter demo``: a synthetic chain generated, synced and served, with examples run live.

* :mod:`~rpc.commands.demo.setup`: the demo directory (archive, data directory, manifest): generated
  and synced on the first run, reused on the next ones; the query values picked from the
  generated chain (:class:`DemoPicks`).
* :mod:`~rpc.commands.demo.examples`: the ready-to-paste ``curl``, web3.py and client-library
  examples for a running server.
* :mod:`~rpc.commands.demo.tour`: runs some of them against the live server and prints
  their answers.

The command itself (flags, serving until Ctrl-C) is :mod:`rpc.commands.demo.command`.
"""

from rpc.commands.demo.setup import DemoPicks, DemoSpec, PreparedDemo, prepare

__all__ = ["DemoPicks", "DemoSpec", "PreparedDemo", "prepare"]
