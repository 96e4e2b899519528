"""One module per subcommand; ``fenghuo.cli`` imports a module only when its command runs."""
