"""The parts of reading a package, one module for each thing read, over a shared ``Reader``.

``lms.packages.loader.read_package`` calls them in order: manifest, lessons (and their
prompts), attachments, what lesson text links to in media/, and the files themselves.
They share ``base.Reader`` (the package, its limits, the problems found), the checks of
typed values in ``values`` and the known keys, with examples, in ``keys``.
"""
