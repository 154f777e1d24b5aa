//! Elementwise activations, f32, in place.

/// ReLU.
pub(crate) fn relu(x: &mut [f32]) {
    for v in x {
        *v = v.max(0.0);
    }
}

/// Leaky ReLU with slope `slope` below 0.
pub(crate) fn leaky_relu(x: &mut [f32], slope: f32) {
    for v in x {
        if *v < 0.0 {
            *v *= slope;
        }
    }
}

/// Hyperbolic tangent, through `libm` so every target agrees.
pub(crate) fn tanh(x: &mut [f32]) {
    for v in x {
        *v = libm::tanhf(*v);
    }
}

/// Logistic sigmoid `1 / (1 + e^-x)`, through `libm`.
pub(crate) fn sigmoid(x: &mut [f32]) {
    for v in x {
        *v = 1.0 / (1.0 + libm::expf(-*v));
    }
}
