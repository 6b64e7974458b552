"""Optional integrations with other frameworks; each module imports its framework, so import it only when
you use it (``from ganaug.integrations.lightning import SyntheticMixCallback``)."""
