"""The benchmark (`make bench`): data generator, load generator, runner and report writer."""
