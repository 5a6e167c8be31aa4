"""The same network with the buggy Sigmoid from common/buggy_layers.py in its hidden layer.

    actcheck gradcheck --impl examples/conventions/pkg/ch05/buggy_two_layer_net.py:BuggyTwoLayerNet \
        --arg input_size=20 --arg hidden_size=10 --arg output_size=5 --arg t=onehot:5 --shape 8,20
        # -> Sigmoid1: dx wrong; Affine1, Affine2 pass (W1, b1 inherit the error)
"""

import os
import sys

sys.path.append(os.pardir)
from common import buggy_layers
from two_layer_net import TwoLayerNet


class BuggyTwoLayerNet(TwoLayerNet):
    def hidden_activation(self):
        return buggy_layers.Sigmoid()
