"""Applications built on symm: the ``symm`` command line (``info``, ``demo``, ``bench``), the demo problem and
the environment report. Nothing in the library imports this package; it imports the library."""
