"""Taking a trained network elsewhere: export to PyTorch code, ONNX and a standalone
NumPy script, each verified numerically against our own predictions, and ONNX import.

``source`` says what is exported (a design and its weights, trained or initial);
``verify`` is the one comparison rule every format is judged by. Each format lives in
its own module and registers in ``formats``.
"""
