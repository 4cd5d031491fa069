# The 2016 madhat format, kept as it was written: the runtime calls
# madhat_func(input_data, output_data) and returns the mutated output_data,
# with everything printed captured as output_text.
# The module-level `global fib` was only a warning in Python 2; the runtime drops it
# (it has no effect there) and reports that as a compatibility note.

def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)

global fib

def madhat_func(input_data, output_data):
    print("hello")
    output_data["fib_5"] = fib(input_data["val_2"])
