"""'How to read this' for the digit experiments: one section per view."""

from explorer.ui.help.pen import ORDER

EDIT = """
<h3>Edit the network (edit tab, and the learned kernels)</h3>
<p><b>Click a learned kernel</b> (or double-click a feature map) to switch its channel off: that filter's output becomes 0
everywhere (exactly as if its weights and bias were zero). Click it again to switch it back
on. <b>Shift-click</b> picks the channel in the edit tab, where the
<i>scale</i> slider multiplies its weights and bias by 0…2. A switched-off channel is
<span style='color:#c81e1e'>crossed out</span> on its kernels and on every map it produces
(conv, relu, pool); a scaled or re-kerneled one is outlined in
<span style='color:#823cc8'>dashed purple</span>.</p>
<p>The <b>3×3 kernel</b> of the selected channel can be typed in (or changed with the
arrows / mouse wheel). Click a conv cell to pick its channel: the inspector's sum is
recomputed with your kernel and still matches the engine.</p>
<p>In the prediction, the <b>dashed outlines</b> are the unedited network's probabilities:
the difference is what your edit did. <b>Reset all edits</b> returns to the network as
loaded, bit for bit. Edits never touch the model file (they live on a working copy); the
command line does the same with <code>classify IMAGE --ablate L:C</code>.</p>
"""

SWEEP = """
<h3>Sweep (experiments tab)</h3>
<p>Your drawing's 28×28 network input is shifted (±8 px), rotated (±60°), scaled
(0.5–1.5×) or made thinner / thicker (grey erosion / dilation), and the network reads every
version. Each curve is one class's probability; the dashed red line marks the nearest value
where the answer changes; drag the yellow cursor to see the input the network read there.
The transform acts on the network input, after the centring the app does for you, so the
curve is the network's own tolerance. Command line: <code>sweep IMAGE --transform NAME</code>.</p>
"""

DREAM = """
<h3>Dream (experiments tab)</h3>
<p>What input makes a class, a conv channel or a dense unit respond most? Starting from a
few short strokes (or, with free pixels, from blank, noise or your drawing), the input is
changed step by step along the gradient of the target, computed by the engine's own
backward pass. <i>Pen strokes</i>: the image is three strokes whose points move (springs
keep each a smooth stroke). <i>Free pixels</i>: every pixel moves, held back by L2, blur,
jitter and an ink budget — these look like smudges. The curve is the objective (class:
log-probability; channel: mean activation) per step. A dream stops at its goal: a class once
the network reads the (8-bit) image as that class with p ≥ 0.95, a channel once its activation
stops rising; <i>max steps</i> is only a cap, and the readout says how many steps it took. A
class dream stuck below its goal starts again from new seeded strokes. <b>Draw this</b> puts the result on the
canvas (undo brings your drawing back). Command line: <code>dream --target class:7 --out d.png</code>.</p>
"""

REPLAY = """
<h3>Replay (experiments tab)</h3>
<p>Your drawing, cut at 60 moments of pen time (points drawn so far, over all strokes),
read by the network at each: one curve per class. The dashed line marks when the final
answer took over for good — when did it become a 7? Drag the slider or press play; the
image is what the network read at that moment.</p>
"""

EVIDENCE = """
<h3>Evidence (experiments tab)</h3>
<p><b>Nearest training images</b>: the 8 training digits whose last hidden layer is
closest to your drawing's (Euclidean distance underneath each label) — what the final
layer treats as alike. <b>Confusion matrix</b>: the model on its held-out images (the split
training never saw); rows are the true class, columns the answer; green diagonal = right,
red = mistakes. Click a cell to see its images, click an image to load it onto the canvas.</p>
"""

TOLERANCE = """
<h3>Which tolerates a shift?</h3>
<p>The same transforms as the Digit Lab's sweep, for the digit CNN (blue) and the row-RNN
(red). Left: the share of held-out images each still reads correctly; right: the
probability each gives its answer for the current drawing. The CNN slides the same kernels
everywhere and pools; the RNN reads rows as time steps, so a vertical shift is a shift in
time for it and a horizontal shift changes every row it reads.</p>
"""

PAGES = {"edit": EDIT, "sweep": SWEEP, "dream": DREAM, "replay": REPLAY, "evidence": EVIDENCE,
         "tolerance": TOLERANCE, "stroke order": ORDER, "order": ORDER}
DIGIT_EXPERIMENTS = "<h2>Experiments</h2>" + EDIT + SWEEP + DREAM + REPLAY + EVIDENCE
