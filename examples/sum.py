"""Adds up a list of numbers: the 2016 system's sample, made robust.

Input:  {"numbers": [1, 2, 3.5]}
Output: {"sum": 6.5, "count": 3}
"""
import math
import numbers


def main(data):
    if not isinstance(data, dict) or "numbers" not in data:
        raise ValueError('expected a JSON object like {"numbers": [1, 2, 3]}')
    values = data["numbers"]
    if not isinstance(values, list):
        raise ValueError('"numbers" must be a list, got %s' % type(values).__name__)
    for index, value in enumerate(values):
        # bool is an int subclass in Python, but true/false in JSON are not numbers.
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError("numbers[%d] is not a number: %r" % (index, value))
        if not math.isfinite(value):  # Python's json accepts NaN and Infinity
            raise ValueError("numbers[%d] is not a finite number: %r" % (index, value))
    # Integers stay exact integers; floats go through math.fsum, which does not
    # accumulate rounding error over long lists.
    if all(isinstance(value, int) for value in values):
        total = sum(values)
    else:
        total = math.fsum(values)
    return {"sum": total, "count": len(values)}
