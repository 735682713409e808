"""Sample tooling, apart from the production modules: the generators of producers' files and regional workbooks,
the demo's data and run (`observatoire demo`), and the benchmark (`observatoire bench`).

Production code never imports this package (tests/test_architecture.py checks it); only the CLI and the tests do.
"""
