"""Constants the predictor registry and the searched models share (a module of its own, so that the models'
module does not import the registry that imports it)."""

#: search budgets: random-search draws of the searched models
SEARCH_BUDGETS = {"paper": 1000, "cheap": 100, "tiny": 20}
#: regression targets of the searched models (see zoo.TARGETS)
TARGETS = ("final", "delta", "auto")
