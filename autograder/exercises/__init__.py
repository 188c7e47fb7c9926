"""The registry of graded exercises, one module per lesson, merged by name."""
from . import activations, neuron

EXERCISES = {ex.name: ex for module in (neuron, activations) for ex in module.EXERCISES}
