"""Convention 6: results stored instead of returned (the nnfs book's layer classes).

forward(inputs) sets self.output and returns nothing; backward(dvalues) sets self.dinputs and, for
layers with weights, self.dweights and self.dbiases.

    actcheck gradcheck --impl examples/conventions/c6_stored_outputs.py:Layer_Dense --arg n_inputs=8 --arg n_neurons=5 --shape 16,8
    actcheck gradcheck --impl examples/conventions/c6_stored_outputs.py:Activation_Softmax --shape 16,5
    actcheck gradcheck --impl examples/conventions/c6_stored_outputs.py:Activation_SoftmaxFlatJacobian --shape 16,5
    actcheck gradcheck --impl examples/conventions/c6_stored_outputs.py:Layer_Dense --arg n_inputs=8 --arg n_neurons=5 \
        --arg weight_regularizer_l2=0.01 --shape 16,8      # dweights off by exactly 2*0.01*weights
"""

import numpy as np


class Layer_Dense:
    def __init__(self, n_inputs, n_neurons, weight_regularizer_l2=0.0, bias_regularizer_l2=0.0):
        self.weights = 0.01 * np.random.randn(n_inputs, n_neurons)
        self.biases = np.zeros((1, n_neurons))
        # the L2 penalty is added to the loss by the training loop, its gradient here in backward
        self.weight_regularizer_l2 = weight_regularizer_l2
        self.bias_regularizer_l2 = bias_regularizer_l2

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        if self.weight_regularizer_l2 > 0:
            self.dweights += 2 * self.weight_regularizer_l2 * self.weights
        if self.bias_regularizer_l2 > 0:
            self.dbiases += 2 * self.bias_regularizer_l2 * self.biases
        self.dinputs = np.dot(dvalues, self.weights.T)


class Layer_DenseMeanWeights(Layer_Dense):
    def backward(self, dvalues):
        super().backward(dvalues)
        self.dweights = np.dot(self.inputs.T, dvalues) / len(self.inputs)  # bug: an extra 1/N


class Activation_ReLU:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0


class Activation_Sigmoid:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = 1 / (1 + np.exp(-inputs))

    def backward(self, dvalues):
        self.dinputs = dvalues * (1 - self.output) * self.output


class Activation_SigmoidForgetsDvalues(Activation_Sigmoid):
    def backward(self, dvalues):
        self.dinputs = (1 - self.output) * self.output  # bug: dvalues never used


class Activation_Softmax:
    def forward(self, inputs):
        self.inputs = inputs
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)

    def backward(self, dvalues):
        self.dinputs = np.empty_like(dvalues)
        for index, (single_output, single_dvalues) in enumerate(zip(self.output, dvalues)):
            single_output = single_output.reshape(-1, 1)
            jacobian = np.diagflat(single_output) - np.dot(single_output, single_output.T)
            self.dinputs[index] = np.dot(jacobian, single_dvalues)


class Activation_SoftmaxFlatJacobian(Activation_Softmax):
    def backward(self, dvalues):
        self.dinputs = np.empty_like(dvalues)
        for index, (single_output, single_dvalues) in enumerate(zip(self.output, dvalues)):
            # bug: without reshape(-1, 1) the outer product is a dot product, a scalar
            jacobian = np.diagflat(single_output) - np.dot(single_output, single_output.T)
            self.dinputs[index] = np.dot(jacobian, single_dvalues)


class Layer_Dropout:
    """Conventions 6 and 7: the mask comes from np.random.binomial in forward."""

    def __init__(self, rate):
        self.rate = 1 - rate  # stored as the keep probability

    def forward(self, inputs):
        self.inputs = inputs
        self.binary_mask = np.random.binomial(1, self.rate, size=inputs.shape) / self.rate
        self.output = inputs * self.binary_mask

    def backward(self, dvalues):
        self.dinputs = dvalues * self.binary_mask


class Loss_CategoricalCrossentropy:
    """nnfs loss: forward(y_pred, y_true) -> per-sample losses; calculate() -> their mean.

    backward(dvalues, y_true) takes the PREDICTIONS as dvalues (not an upstream gradient) and sets
    dinputs = d mean(losses) / d y_pred. y_pred must be probabilities (e.g. --range 0.05 0.95).
    """

    def calculate(self, output, y):
        return np.mean(self.forward(output, y))

    def forward(self, y_pred, y_true):
        samples = len(y_pred)
        y_pred_clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
        if len(y_true.shape) == 1:
            correct_confidences = y_pred_clipped[range(samples), y_true]
        else:
            correct_confidences = np.sum(y_pred_clipped * y_true, axis=1)
        return -np.log(correct_confidences)

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        labels = len(dvalues[0])
        if len(y_true.shape) == 1:
            y_true = np.eye(labels)[y_true]
        self.dinputs = -y_true / dvalues
        self.dinputs = self.dinputs / samples
