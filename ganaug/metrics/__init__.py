"""Measures of generators and of results: per-class diversity, quality in a feature space, statistics over seeds."""
