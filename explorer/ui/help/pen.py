"""'How to read this' for the Digit Lab's pen-reader panels: the pen RNN beside the CNN."""

READER = """
<h3>Two readers of one drawing</h3>
<p>The <b>CNN</b> reads your drawing as a <i>picture</i>: the finished ink, preprocessed to
28×28, slid over by small kernels — space, all at once. The <b>pen RNN</b> (an LSTM or a
GRU) reads the same drawing as the <i>pen</i> wrote it: a fixed length of pen travel is
one <b>pen step</b> (the shipped models: every 10 units of a 280-unit canvas) carrying the
movement since the last step, where the pen went down and when
it was lifted. It steps with every pen movement, carrying a state from step to step — time.
It never sees the ink, so it is blind to the pen's width, and the order and direction of your
strokes are part of what it reads. Both answers are recomputed with every pen movement.</p>
"""

TRAJECTORY = """
<h3>Hidden-state trajectory (pen RNN)</h3>
<p>The pen RNN's hidden state after each pen step, projected on the two principal axes of
its states over synthetic digits (fitted once per model, then frozen, so the picture does
not jump as you draw; the grey cloud is those states). The line grows with every pen
movement; the <span style='color:#e07b00'><b>orange dot</b></span> is the state now, squares
mark where a stroke began. Digits the model tells apart end in different regions; a stroke
that changes its mind shows as a turn. The axis labels say how much of the states'
variance each axis holds: what is left out is not shown.</p>
"""

GATES = """
<h3>Gates over pen time (pen RNN)</h3>
<p>One band per gate, one row per hidden unit, one column per pen step (the latest steps at
the right). Gates are in 0…1 (dark → yellow). <b>LSTM</b>: c(t) = f·c(t−1) + i·g,
h(t) = o·tanh(c(t)): the forget gate f ≈ 1 keeps the memory, the input gate i ≈ 1 writes the
candidate g into it, the output gate o ≈ 1 shows it. <b>GRU</b>: h(t) = (1−z)·n + z·h(t−1):
the update gate z ≈ 1 keeps the old state, the reset gate r decides how much of it feeds the
candidate n. Watch the columns where a new stroke starts (the ticks at the top): many gates
switch at once when the pen lands somewhere new.</p>
"""

TIME = """
<h3>Probabilities over pen time: both readers</h3>
<p>Top: the pen RNN's probability of each class after every pen step. Bottom: the CNN's
reading of the drawing <i>as it was</i> at that pen step (the ink drawn up to that moment).
The dashed line in each marks <b>when it knew</b>: the first pen step from which its answer
stays right for good — right meaning the digit you pick in <i>the digit is</i> (or, on
<i>its last answer</i>, whatever each reader ends up saying). The CNN can only read what is on
the paper; the pen RNN also knows how it got there, so the two often decide at different
moments. Older steps are never recomputed while you draw; the CNN's curve for steps drawn
faster than the screen refreshes is filled in a moment later.</p>
"""

ORDER = """
<h3>Order: the same drawing, its strokes in another order</h3>
<p>The current drawing replayed with its strokes <b>reversed</b> (each stroke drawn from its
end, the last stroke first), <b>permuted</b> (every other order of the strokes) and with
<b>one stroke left out</b>, read by both networks. The CNN reads the picture, and the picture
does not change when the order or the direction does: its bars are the same, bit for bit.
The pen RNN reads the pen, so its answer can change. A stroke left out changes the picture
too, so both can change there.</p>
<p>The sweep below moves the drawing itself (shift, scale, rotate) and thickens the pen.
Both read the moved strokes their own way: the CNN through the canvas pipeline (which centres
and scales the ink), the pen RNN through the pen steps (which never see where the drawing is).
Thickness is only ink: the pen RNN is blind to it by construction, the CNN is not.</p>
"""

PAGES = {"reader": READER, "trajectory": TRAJECTORY, "gates": GATES, "time": TIME, "order": ORDER}
