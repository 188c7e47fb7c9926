r"""The course's autograder: instant checks in the notebook, sandboxed grading, localised feedback.

Modules, from the student's kernel to the grader:

``exercise``   what an exercise is (:class:`~autograder.exercise.Exercise`, :class:`~autograder.exercise.Case`)
``exercises``  the registry of graded exercises, one module per lesson
``compare``    one case's verdict: type, shape, dtype, NaN, tolerance, numerical derivative (pure)
``checks``     ``check(name, func)``: instant feedback in the student's kernel
``messages``   English msgids translated to uk/ru/pl through gettext catalogs (polib)
``harness``    the untrusted side: runs the student's cells and calls inside the sandbox
``sandbox``    one isolated, resource-limited process per submission
``verdict``    grade a notebook: sandbox run + comparison in the grader's own process

Submodules are not imported here, so ``from autograder.checks import check`` stays light.
"""
