"""'How to read this' pages (HTML) for each lab, shown from the Help menu.

``PAGES`` maps a lab title to its page; the lead adds pages for labs added later.
"""

DIGITS = """
<h2>Digit Lab — how to read it</h2>
<p><b>Draw</b> a digit on the white square with the left mouse button. Every movement is
fed through the network; the panels repaint at most once per screen frame.</p>
<p><b>What the network sees</b>: your drawing as MNIST was made — white ink on black,
scaled so its longer side is 20 pixels, centred by its centre of mass in a 28×28 field.</p>
<h3>The layers, top to bottom</h3>
<ul>
<li><b>conv</b> (before ReLU): each tile is one filter's <i>feature map</i>. A filter is a
small 3×3 grid of weights (see <i>kernels</i>) slid over the image: at every position,
multiply the patch under it element-wise with the kernel, add everything up, add the bias.
<span style='color:#c02020'>Red</span> = positive, <span style='color:#2050d0'>blue</span> =
negative, pale = near zero.</li>
<li><b>relu</b>: the same maps with negatives set to 0. With <i>pool winners</i> on, the
darkened cells are the ones the following max-pool keeps.</li>
<li><b>pool</b>: 2×2 max-pool — each cell keeps the largest of four neighbours. The map
halves, and small shifts of the drawing hardly change it.</li>
<li><b>dense</b>: the hidden fully connected layer; every unit looks at all pooled maps.</li>
<li><b>prediction</b>: softmax of the last layer — the ten probabilities sum to 100 %.</li>
</ul>
<h3>Colour scale</h3>
<p>One diverging scale centred on zero everywhere. Values are divided by the largest
|value| in the chosen <i>scope</i>: each map on its own, each layer, or the whole network
(compare magnitudes between layers).</p>
<h3>Ask any number where it came from</h3>
<p>Click a cell of a conv map: its receptive field is outlined on the input and on your
drawing, and the inspector writes the sum out — patch ⊙ kernel = products, Σ, + bias,
ReLU — next to the engine's own value. Click a pool cell to see its 2×2 window and
winner. The worked examples reproduce the textbook cases (= 4 and = 3).</p>
<p><b>Saliency</b> colours the pixels that push the top class up (red) or down (blue):
the gradient of its score with respect to the input, computed by our own backward pass.</p>
<h3>Keys</h3>
<p>Ctrl+Z undo · Ctrl+Shift+Z redo · Delete clear · E eraser · [ and ] pen width ·
Ctrl+O open image (or drop one on the canvas) · Ctrl+S save drawing.</p>
"""

SEQUENCES = """
<h2>Sequence Lab — how to read it</h2>
<p><b>Type</b> or paste in the editor. A recurrent network reads the text one character at
a time and carries a <i>hidden state</i> h(t) from each character to the next: that state
is everything it remembers. Typing one character costs one step; an edit in the middle
recomputes from there on.</p>
<p>Pick the network in <b>Model</b>: character models of Python code (LSTM, GRU, plain RNN
of the same width — same text, different cells) and English prose, or a tiny model of a
toy language whose few units you can read one by one.</p>
<h3>The panels</h3>
<ul>
<li><b>Hidden state h(t)</b>: units (rows) × characters (columns),
<span style='color:#c02020'>red</span> = positive, <span style='color:#2050d0'>blue</span>
= negative (tanh keeps them in −1…1). The orange line is the cursor. Click a column to
move the cursor, a row to select that unit.</li>
<li><b>Trajectory</b>: the state projected on principal components fitted once on the
model's own corpus (frozen, so the picture does not jump). Grey dots are the corpus; the
path is your text, labelled by character, fading with age. Toy models show their
attractors: parity flips between two points, bracket depth walks along a line.</li>
<li><b>Next character / output at the cursor</b>: the model's top-5 guesses. The strip
under the text shows the probability it gave to each character that actually came next
(green = expected, red = surprising).</li>
<li><b>Memory</b>: how strongly each earlier character drives the prediction at the
cursor — the squared gradient of that output's score with respect to each input, through
our own backpropagation through time.</li>
<li><b>Gates</b> (LSTM input, forget, output and cell state; GRU reset and update): over
time, and their spread at the cursor.</li>
<li><b>Unrolled view</b>: the textbook picture x(t) → h(t) → y(t) with the real vectors
as small bars, around the cursor.</li>
</ul>
<h3>Units that mean something</h3>
<p><b>Find a unit for…</b> ranks every unit by its correlation r with a signal over your
text (inside a quoted literal, inside a docstring, bracket depth, position in the line,
inside a comment, after a space, or your own regular expression) and selects the best.
For an LSTM it also searches the cell state, read as tanh c(t). The text is then coloured
by that unit: green where it is positive, red where it is negative.</p>
<p>Characters the model has no symbol for (accents, emoji, control characters) are
highlighted and read as one "unknown" symbol.</p>
<h3>And attention? A transformer in the same lab</h3>
<p>Pick a <b>transformer</b> in <b>Model</b>. It carries no state from one character to the
next: at every position each attention <i>head</i> compares that position's query with
the keys of every earlier character it can see (its <b>context</b>; beyond it the text is
read in windows that jump by half a context) and takes a weighted mix of their values.
Typing one character still costs one position: the keys and values of the characters
before it are kept. An edit in the middle recomputes from there.</p>
<ul>
<li><b>Hidden state</b> becomes the <i>residual stream</i> after the last layer: one
vector per character, what the output layer reads. It is not squashed into −1…1, so the
heat map's scale is set from the model's own corpus (the legend says how far).</li>
<li><b>Trajectory, predictions</b> work as for the RNNs (the trajectory's axes are fitted on
the residual stream over the model's corpus).</li>
<li><b>Memory</b> is the same gradient, through the attention blocks: it can be large for
any character in the window, however far — an RNN's has to pass through every step in
between and usually fades.</li>
<li><b>Attention</b> (it takes the place of the gates panel — a transformer has no gates —
and of the unrolled view, as nothing is unrolled through a state): left, each head's
weights at the cursor over the characters it can see, with the head's <i>entropy</i> in
bits (0 = it looks at one character; log₂ k = evenly at all k); right, one layer's whole
query × key pattern around the cursor. Click a head (or use <i>Colour text by</i>) to
colour the editor by its weights.</li>
<li>The <b>Write</b> pane and the <b>fixed points</b> need a recurrent state and are hidden
for a transformer.</li>
</ul>
"""

COMPARE = """
<h2>Compare — how to read it</h2>
<p><b>Same task, three networks.</b> A small 1-D CNN, an LSTM and a transformer with
about as many parameters are trained side by side on exactly the same batches. The row
above the plots is the legend: each network's colour, its parameters and the time its
training steps took.</p>
<ul>
<li><i>Long-range recall</i>: a key, then <i>distance</i> fillers, then "?": answer the
key. The CNN answers at "?" from what its stacked kernels can see there — its
<b>receptive field</b> (the shaded band). Once the key lies beyond it, the CNN cannot
know it and sits at chance (dashed line). The LSTM carries the key in its state through
time and answers at any distance. The transformer looks straight back at the key from the
"?" as long as the key is inside its <b>context</b> (the violet band); once the key has left
its window it cannot see it either.</li>
<li><i>Local motif</i>: does "abc" occur anywhere? A few shared kernels slid over the
sequence and a global max find it wherever it is, with fewer parameters than the LSTM,
and keep working on longer sequences.</li>
<li><i>What each network looks at</i> shows, for one sample, how strongly each input moves
each network's answer (gradient influence, log scale): the CNN's is exactly zero outside
its field; the LSTM's usually fades with distance; the transformer's can be large anywhere
in its window.</li>
<li><i>Cost of one more symbol</i>: multiply-adds to read one more symbol after n, counted
from each architecture (log–log). The LSTM and the CNN cost the same at any n; the
transformer compares the new symbol with every earlier one it can see, so its cost grows
with n until its context is full (dashed: the same transformer with an unlimited context,
which keeps growing).</li>
</ul>
<p><b>Digits three ways.</b> The same drawing read by the digit CNN (small kernels slid
over space), by an LSTM that reads the picture row by row (28 steps of 28 pixels: time the
drawing never had) and by the pen RNN, which reads the pen strokes in the order and
direction they were drawn — their probabilities side by side and the row-RNN's path through
its state space, row by row. An MNIST image has no pen, so the pen RNN reads only drawings.
Below: each network on digits by writers none of them trained on — accuracy, parameters,
milliseconds per reading — and its accuracy after one change to every drawing: strokes
reversed or reordered (the CNN's picture does not change; the pen RNN's input does), one
stroke left out, shifted, scaled, rotated, a thicker pen (only ink: the pen RNN cannot see
it). The figures are computed once by <code>cnn-rnn-explorer compare --task digits-three-ways</code>
and shipped in <code>resources/compare/digits_three_ways.json</code>.</p>
<p><b>Parameters.</b> Change the sizes: a fully connected layer needs a weight per pixel
per unit; a convolution reuses one small kernel at every position (32 kernels of 3×3 =
288 weights, whatever the image size); an RNN reuses its weights at every time step.</p>
"""

TRAIN = """
<h2>Train — how to read it</h2>
<p>Pick a model, its data and how to train it, then <b>Start</b>. Training runs in a
background thread: keep drawing or typing in the other labs — with <i>View → Labs follow
the model being trained</i> they use the model as it learns.</p>
<ul>
<li><b>Loss</b> (cross-entropy, lower is better) and <b>accuracy</b>: each training batch
(light), its running mean (blue) and the held-out validation set after each epoch
(green). A growing gap between blue and green means the model is memorising.</li>
<li>The lower panel shows learning as it happens: the first-layer kernels of a CNN, or
the hidden-state trajectory of a probe input for a recurrent model.</li>
<li><b>Pause</b> holds the thread, <b>Step</b> runs exactly one batch, <b>Stop</b> ends the
run, <b>Reset</b> starts from fresh random weights. <b>Save model…</b> writes the current
weights (atomically) at any time.</li>
<li>If the loss explodes (NaN, infinite, or far above where it started — try a huge
learning rate) the run stops with a message and the weights from before that step are
kept.</li>
</ul>
"""

def _icon_img() -> str:
    from explorer.paths import resources_dir
    icon = resources_dir() / "icons" / "cnn-rnn-explorer.svg"
    return f"<img src='{icon.as_uri()}' width='64' height='64' align='left'>" if icon.is_file() else ""


ABOUT = _icon_img() + """
<h2>CNN &amp; RNN Explorer</h2>
<p>See, live, what a convolutional and a recurrent network compute: draw a digit and
watch a CNN look at it through small kernels slid over space; type a sequence and watch an
RNN carry a state through time.</p>
<p>Everything is computed by the project's own numpy engine, so every number on screen can
be traced to an equation. Built with PySide6 and pyqtgraph.</p>
"""

PAGES: dict[str, str] = {"Digits": DIGITS, "Sequences": SEQUENCES, "Compare": COMPARE, "Train": TRAIN}

# the experiments' pages (one section per view) join the Digits and Compare pages
from explorer.ui.help.experiments import DIGIT_EXPERIMENTS, TOLERANCE  # noqa: E402

PAGES["Digits"] = DIGITS + DIGIT_EXPERIMENTS
PAGES["Compare"] = COMPARE + TOLERANCE

# the pen RNN beside the CNN: its page's panels and the stroke-order experiment
from explorer.ui.help import pen as _pen  # noqa: E402

PAGES["Digits"] += "<h2>The pen RNN</h2>" + _pen.READER + _pen.TIME + _pen.TRAJECTORY + _pen.GATES + _pen.ORDER
