//! Adam with its state kept as named tensors, so that a checkpoint can hold it.
//!
//! tch's `nn::Optimizer` wraps libtorch's C++ optimiser and exposes no way to read or
//! restore its moment estimates, so a resumed run would restart Adam from zero and leave
//! the curve. This implementation follows PyTorch's `torch.optim.Adam` (no weight decay,
//! no AMSGrad): `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`, then
//! `p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)`.

use std::collections::HashMap;

use tch::{nn::VarStore, Kind, TchError, Tensor};

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

    /// Updates every variable that has a gradient.
    pub fn step(&mut self) -> Result<(), TchError> {
        self.steps += 1;
        let t = self.steps as i32;
        let correction1 = 1.0 - self.beta1.powi(t);
        let correction2 = (1.0 - self.beta2.powi(t)).sqrt();
        let step_size = self.lr / correction1;

        tch::no_grad(|| {
            let moments = self.exp_avg.iter_mut().zip(self.exp_avg_sq.iter_mut());
            for ((_, param), (m, v)) in self.params.iter_mut().zip(moments) {
                let grad = param.grad();
                if !grad.defined() {
                    continue;
                }
                let _ = m
                    .f_mul_scalar_(self.beta1)?
                    .f_add_(&grad.f_mul_scalar(1.0 - self.beta1)?)?;
                let _ = v
                    .f_mul_scalar_(self.beta2)?
                    .f_add_(&grad.f_square()?.f_mul_scalar(1.0 - self.beta2)?)?;
                let denom = v
                    .f_sqrt()?
                    .f_div_scalar(correction2)?
                    .f_add_scalar(self.eps)?;
                let _ = param.f_sub_(&m.f_div(&denom)?.f_mul_scalar(step_size)?)?;
            }
            Ok(())
        })
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
