"""The model's mechanisms, one module each (MODEL_BRIEF §2, items 1-9).

Every function here is a pure function of arrays, parameters and a numpy
random generator: it returns new values and never touches the model. The
order in which :class:`orgsim.model.OrgModel` applies them is visible in
``OrgModel.step``.
"""
