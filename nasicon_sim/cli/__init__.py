"""Command-line interface: one thin module per subcommand (see :mod:`nasicon_sim.cli.main`)."""
