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

ABOUT = """
<h2>CNN &amp; RNN Explorer</h2>
<p>See, live, what a convolutional and a recurrent network compute: draw a digit and
watch a CNN look at it through small kernels slid over space; type a sequence and watch an
RNN carry a state through time.</p>
<p>Everything is computed by the project's own numpy engine, so every number on screen can
be traced to an equation. Built with PySide6 and pyqtgraph.</p>
"""

PAGES: dict[str, str] = {"Digits": DIGITS}
