//! Adam with its state kept as named tensors, so that a checkpoint can hold it.
//!
//! tch's `nn::Optimizer` wraps libtorch's C++ optimiser and exposes no way to read or
//! restore its moment estimates, so a resumed run would restart Adam from zero and leave
//! the curve. This implementation follows PyTorch's `torch.optim.Adam` (no weight decay,
//! no AMSGrad): `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`, then
//! `p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)`. The state lives here; the
//! arithmetic is libtorch's fused kernel, reached through `csrc/fused_adam.cpp`.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, CStr};

use tch::{nn::VarStore, Kind, TchError, Tensor};
use torch_sys::C_tensor;

extern "C" {
    fn ambient_fused_adam(
        params: *const *const C_tensor,
        grads: *const *const C_tensor,
        exp_avgs: *const *const C_tensor,
        exp_avg_sqs: *const *const C_tensor,
        count: usize,
        step: f64,
        lr: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
        message: *mut c_char,
        message_length: usize,
    ) -> c_int;
}

/// Adam over the trainable variables of one `VarStore`.
#[derive(Debug)]
pub struct Adam {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    steps: i64,
    params: Vec<(String, Tensor)>,
    exp_avg: Vec<Tensor>,
    exp_avg_sq: Vec<Tensor>,
}

impl Adam {
    /// Creates Adam for every trainable variable of `vars`, in name order.
    pub fn new(vars: &VarStore, lr: f64, beta1: f64, beta2: f64, eps: f64) -> Self {
        let mut params: Vec<(String, Tensor)> = vars
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let exp_avg = params.iter().map(|(_, p)| p.zeros_like()).collect();
        let exp_avg_sq = params.iter().map(|(_, p)| p.zeros_like()).collect();
        Self {
            lr,
            beta1,
            beta2,
            eps,
            steps: 0,
            params,
            exp_avg,
            exp_avg_sq,
        }
    }

    /// Returns the learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Sets the learning rate of the following updates (a schedule sets it every step;
    /// a checkpoint does not store it).
    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// Returns the number of updates made so far.
    pub fn steps(&self) -> i64 {
        self.steps
    }

    /// Clears the gradients of the optimised variables.
    pub fn zero_grad(&mut self) {
        for (_, param) in &mut self.params {
            let mut grad = param.grad();
            if grad.defined() {
                let _ = grad.detach_().zero_();
            }
        }
    }

    /// Takes one step from the gradients of the last backward pass. Variables without a
    /// gradient keep their values and moments.
    ///
    /// The arithmetic runs in libtorch's fused Adam kernel (`csrc/fused_adam.cpp`), the one
    /// behind PyTorch's `Adam(fused=True)`: one pass over each tensor instead of a dozen.
    pub fn step(&mut self) -> Result<(), TchError> {
        self.steps += 1;

        let mut params = Vec::with_capacity(self.params.len());
        let mut grads = Vec::with_capacity(self.params.len());
        let mut exp_avgs = Vec::with_capacity(self.params.len());
        let mut exp_avg_sqs = Vec::with_capacity(self.params.len());
        let moments = self.exp_avg.iter().zip(&self.exp_avg_sq);
        for ((_, param), (m, v)) in self.params.iter().zip(moments) {
            let grad = param.grad();
            if !grad.defined() {
                continue;
            }
            params.push(param.as_ptr());
            exp_avgs.push(m.as_ptr());
            exp_avg_sqs.push(v.as_ptr());
            grads.push(grad);
        }
        let grad_ptrs: Vec<_> = grads.iter().map(Tensor::as_ptr).collect();

        let mut message = [0u8; 512];
        // SAFETY: each array holds `params.len()` pointers to live tensors, owned by `self`
        // and `grads`, so they outlive the call. The shim writes at most `message.len()`
        // bytes into `message` and throws nothing.
        let status = unsafe {
            ambient_fused_adam(
                params.as_ptr(),
                grad_ptrs.as_ptr(),
                exp_avgs.as_ptr(),
                exp_avg_sqs.as_ptr(),
                params.len(),
                self.steps as f64,
                self.lr,
                self.beta1,
                self.beta2,
                self.eps,
                message.as_mut_ptr().cast(),
                message.len(),
            )
        };
        if status != 0 {
            let text = CStr::from_bytes_until_nul(&message)
                .map(|m| m.to_string_lossy().into_owned())
                .unwrap_or_default();
            return Err(TchError::Torch(format!(
                "the fused Adam step failed: {text}"
            )));
        }
        Ok(())
    }

    /// Returns the state as named tensors under `prefix`: `{prefix}.steps`,
    /// `{prefix}.exp_avg.{variable}` and `{prefix}.exp_avg_sq.{variable}`.
    pub fn state(&self, prefix: &str) -> Vec<(String, Tensor)> {
        let mut out = vec![(format!("{prefix}.steps"), Tensor::from_slice(&[self.steps]))];
        for ((name, _), (m, v)) in self
            .params
            .iter()
            .zip(self.exp_avg.iter().zip(&self.exp_avg_sq))
        {
            out.push((format!("{prefix}.exp_avg.{name}"), m.shallow_clone()));
            out.push((format!("{prefix}.exp_avg_sq.{name}"), v.shallow_clone()));
        }
        out
    }

    /// Restores the state written by [`Adam::state`] under `prefix`.
    ///
    /// Returns the name of the first tensor that is missing or has the wrong shape.
    pub fn load_state(
        &mut self,
        prefix: &str,
        tensors: &HashMap<String, Tensor>,
    ) -> Result<(), String> {
        let steps_name = format!("{prefix}.steps");
        let steps = tensors
            .get(&steps_name)
            .filter(|t| t.numel() == 1 && t.kind() == Kind::Int64)
            .ok_or_else(|| steps_name.clone())?;
        self.steps = steps.int64_value(&[0]);

        let moments = self.exp_avg.iter_mut().zip(self.exp_avg_sq.iter_mut());
        for ((name, param), (m, v)) in self.params.iter().zip(moments) {
            for (slot, kind) in [(m, "exp_avg"), (v, "exp_avg_sq")] {
                let key = format!("{prefix}.{kind}.{name}");
                let stored = tensors
                    .get(&key)
                    .filter(|t| t.size() == param.size())
                    .ok_or_else(|| key.clone())?;
                tch::no_grad(|| slot.f_copy_(stored)).map_err(|_| key.clone())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tch::nn::{Init, VarStore};
    use tch::{Device, Tensor};

    use super::Adam;

    fn set_grad(var: &Tensor, values: &[f32]) {
        let mut grad = var.grad();
        grad.copy_(&Tensor::from_slice(values));
    }

    #[test]
    fn two_steps_match_the_hand_computed_update() {
        let vars = VarStore::new(Device::Cpu);
        let root = vars.root();
        let w = root.var("w", &[2], Init::Const(0.0));
        let frozen = root.var("z", &[2], Init::Const(3.0));
        tch::no_grad(|| {
            w.shallow_clone()
                .copy_(&Tensor::from_slice(&[1.0f32, -2.0]))
        });
        let mut adam = Adam::new(&vars, 0.1, 0.5, 0.9, 1e-8);

        // A backward pass defines w's gradient only; z has none and must not move.
        (&w * 0.0).sum(tch::Kind::Float).backward();
        set_grad(&w, &[0.5, -1.0]);
        adam.step().expect("first step");
        let after_one = Vec::<f32>::try_from(&w).expect("floats");

        set_grad(&w, &[1.0, 0.0]);
        adam.step().expect("second step");
        let after_two = Vec::<f32>::try_from(&w).expect("floats");

        // Step 1: m̂ = g and the denominator is |g|, so each value moves by lr against
        // the gradient's sign. Step 2: m = [0.625, -0.25], v = [0.1225, 0.09],
        // p -= 0.1 / 0.75 · m / (√v / √0.19 + 1e-8).
        let expected = [[0.9, -1.9], [0.796_216_7, -1.851_567_8]];
        for (got, want) in [after_one, after_two].iter().zip(expected) {
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-6, "{got:?} against {want:?}");
            }
        }
        assert_eq!(Vec::<f32>::try_from(&frozen).expect("floats"), [3.0, 3.0]);
        assert_eq!(adam.steps(), 2);
    }
}
