import LoomCore

/// What each word an option can take means, for Shift-Tab on `relu`, `adam`
/// or `crossentropy`. Every choice word of every statement and layer has an
/// entry (a test checks it), under the option it belongs to.
enum ValueHelp {
    static let meanings: [String: String] = [
        // activations
        "relu": "activation: max(0, z), zero for negative inputs (half a layer's outputs are often zero)",
        "tanh": "activation: tanh(z), from −1 to 1",
        "sigmoid": "activation: 1 / (1 + e^−z), from 0 to 1 (an LSTM's and GRU's gates)",
        "softmax": "activation: e^z / Σe^z over the last axis, probabilities that add up to 1 (a classifier's last layer)",
        "linear": "activation: z itself (a regression's last layer)",
        // optimizers
        "adam": "optimizer: Adam (Kingma and Ba), per-weight step sizes from running means of the gradient and its square; Keras's default lr 0.001",
        "sgd": "optimizer: plain stochastic gradient descent, w −= lr·g; Keras's default lr 0.01",
        "momentum": "optimizer: SGD with momentum 0.9 (Keras's SGD(momentum=0.9)), v = 0.9v − lr·g, w += v",
        "rmsprop": "optimizer: RMSprop, steps scaled by a running mean of the squared gradient (rho 0.9); Keras's default lr 0.001",
        "adamw": "optimizer: AdamW (Loshchilov and Hutter), Adam with decoupled weight decay: each step the kernels lose lr·wd of "
            + "their weights before Adam's step (`decay WD`, default 0.004 as Keras's AdamW; biases not decayed); Keras's default lr 0.001",
        // losses and monitors
        "crossentropy": "loss: categorical cross-entropy, −log of the probability given to the true class (needs a softmax output)",
        "mse": "loss: mean squared error between outputs and targets (regression, or any output)",
        "bce": "loss: binary cross-entropy, for outputs and targets in [0, 1] (needs a sigmoid output; an image autoencoder's usual loss)",
        "inputs": "target: the model learns to reconstruct its own inputs (an autoencoder); no labels needed",
        "loss": "monitor: the loss, lower is better (the validation data's when given)",
        "accuracy": "monitor: the share of samples classified right, higher is better (class labels only)",
        // data
        "last": "label: the last column of each row holds the class",
        "first": "label: the first column of each row holds the class",
        "none": "label: no column holds a class (unlabelled samples)",
        "classes": "target: the frequency band of each wave, a class to predict",
        "next": "target: the value one step after the end of each wave, a number to predict (regression)",
        // layers
        "valid": "padding: no padding, so the output is smaller by the kernel's size − 1",
        "same": "padding: zeros around the input so the output keeps its spatial size (at stride 1)",
        "avg": "globalpool: the mean over all positions (or steps) of each channel",
        "max": "globalpool: the largest value over all positions (or steps) of each channel; encode … pool: each atom's largest |code| in a region",
        "sum": "encode … pool: each atom's codes added over a region, signs kept",
        "l1": "activity: an L1 penalty λ·Σ|a| on the previous layer's outputs",
        "kl": "activity: the sparse autoencoder's penalty β·Σⱼ KL(ρ‖ρ̂ⱼ) on each unit's mean activation over the batch",
        // sparse coding
        "ksvd": "method: K-SVD, OMP codes then each atom refitted to what the others leave unexplained",
        "mod": "method: MOD, OMP codes then all atoms at once by least squares",
        "online": "method: online dictionary learning (Mairal et al.), mini-batches with running statistics; works with the lasso",
        "omp": "coder: orthogonal matching pursuit, a few atoms picked greedily and refitted by least squares",
        "lasso": "coder: the lasso, min ½‖x − αD‖² + alpha‖α‖₁, by coordinate descent",
        "ista": "coder: the lasso by proximal gradient, a step of 1/L then soft thresholding, all samples at once",
        "fista": "coder: the lasso by ISTA with Beck and Teboulle's momentum, far fewer iterations for the same objective",
        "threshold": "coder: soft thresholding of the correlations Dx (one matrix product)",
        // session settings
        "auto": "plots: vector figures beside the text in notebooks, text alone in a terminal (the default)",
        "text": "plots: text drawings only",
        "svg": "plots: vector figures beside the text drawings",
        "display": "progress: a line updated in place (notebooks)",
        "stream": "progress: a line per epoch on standard error (terminals such as jupyter console)",
        "off": "progress: none shown",
        // how often
        "every": "how often: `histograms every N` epochs (train … log), `prune … every N` and `rewire … every N` steps",
    ]

    /// The meaning of `word` as an option value, or nil.
    static func explain(_ word: String) -> MimeBundle? {
        guard let meaning = meanings[word] else { return nil }
        return MimeBundle(text: "\(word): \(meaning)")
    }
}
