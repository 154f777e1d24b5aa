//! Adam with its state kept as named tensors, so that a checkpoint can hold it.
//!
//! tch's `nn::Optimizer` wraps libtorch's C++ optimiser and exposes no way to read or
//! restore its moment estimates, so a resumed run would restart Adam from zero and leave
//! the curve. This implementation follows PyTorch's `torch.optim.Adam` (no weight decay,
//! no AMSGrad): `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`, then
//! `p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)`.

use std::collections::HashMap;

use tch::{nn::VarStore, Device, Kind, TchError, Tensor};

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
    ///
    /// Variables whose value, gradient and moments are contiguous f32 on the CPU are
    /// updated in one pass over their memory ([`update_in_place`]). Any other variable
    /// (on a GPU, for example) takes one tch call per operation ([`update_with_tensors`]).
    /// Both evaluate the same f32 operations in the same order, so they give the same bits.
    pub fn step(&mut self) -> Result<(), TchError> {
        self.steps += 1;
        let t = self.steps as i32;
        let scalars = StepScalars {
            beta1: self.beta1,
            beta2: self.beta2,
            correction2: (1.0 - self.beta2.powi(t)).sqrt(),
            eps: self.eps,
            step_size: self.lr / (1.0 - self.beta1.powi(t)),
        };

        tch::no_grad(|| {
            let moments = self.exp_avg.iter_mut().zip(self.exp_avg_sq.iter_mut());
            for ((_, param), (m, v)) in self.params.iter_mut().zip(moments) {
                let grad = param.grad();
                if !grad.defined() {
                    continue;
                }
                if !update_in_place(param, &grad, m, v, &scalars) {
                    update_with_tensors(param, &grad, m, v, &scalars)?;
                }
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

/// The scalars of one update, in f64 as tch passes them. libtorch rounds each to f32 when
/// it meets an f32 tensor, and [`update_in_place`] rounds them the same way.
struct StepScalars {
    beta1: f64,
    beta2: f64,
    /// `√(1 − β2ᵗ)`.
    correction2: f64,
    eps: f64,
    /// `lr / (1 − β1ᵗ)`.
    step_size: f64,
}

/// Updates one variable with one tch call per operation (any device and dtype).
fn update_with_tensors(
    param: &mut Tensor,
    grad: &Tensor,
    m: &mut Tensor,
    v: &mut Tensor,
    s: &StepScalars,
) -> Result<(), TchError> {
    let _ = m
        .f_mul_scalar_(s.beta1)?
        .f_add_(&grad.f_mul_scalar(1.0 - s.beta1)?)?;
    let _ = v
        .f_mul_scalar_(s.beta2)?
        .f_add_(&grad.f_square()?.f_mul_scalar(1.0 - s.beta2)?)?;
    let denom = v
        .f_sqrt()?
        .f_div_scalar(s.correction2)?
        .f_add_scalar(s.eps)?;
    let _ = param.f_sub_(&m.f_div(&denom)?.f_mul_scalar(s.step_size)?)?;
    Ok(())
}

/// Updates one variable in a single pass over the memory of its value, gradient and
/// moments, where [`update_with_tensors`] makes thirteen passes and eight temporary
/// tensors. Returns `false`, changing nothing, unless all four are distinct, contiguous
/// f32 tensors on the CPU with the same number of elements.
///
/// Each element goes through the f32 operations of [`update_with_tensors`] in its order:
/// libtorch's CPU kernels for these element-wise operations are IEEE 754 single-precision
/// multiplies, adds, divides and square roots (vectorised or not), and Rust neither
/// reorders nor fuses f32 arithmetic, so both give the same bits. The test
/// `in_place_matches_tensor_ops` checks that on every step.
///
/// The writes bypass autograd's version counter. That is sound here because the step runs
/// after the backward pass, when no graph that saved these tensors is used again.
fn update_in_place(param: &Tensor, grad: &Tensor, m: &Tensor, v: &Tensor, s: &StepScalars) -> bool {
    let tensors = [param, grad, m, v];
    let len = param.numel();
    let plain = |t: &&Tensor| {
        t.device() == Device::Cpu
            && t.kind() == Kind::Float
            && t.is_contiguous()
            && t.numel() == len
    };
    if !tensors.iter().all(plain) {
        return false;
    }
    if len == 0 {
        return true;
    }
    let ranges = tensors.map(|t| {
        let start = t.data_ptr() as usize;
        start..start + len * size_of::<f32>()
    });
    for (i, a) in ranges.iter().enumerate() {
        let aligned = a.start % align_of::<f32>() == 0;
        let disjoint = ranges[i + 1..]
            .iter()
            .all(|b| a.end <= b.start || b.end <= a.start);
        if !(aligned && disjoint) {
            return false;
        }
    }

    // SAFETY: each tensor was checked to be a contiguous, f32-aligned CPU buffer of `len`
    // f32 values, and the four buffers do not overlap, so the slices are valid and the
    // mutable ones are not aliased. The tensors outlive the slices, and nothing else runs
    // on them while this function does (the optimiser holds the only handles to the
    // moments, and the step runs between backward passes).
    let (param, grad, m, v) = unsafe {
        (
            std::slice::from_raw_parts_mut(param.data_ptr().cast::<f32>(), len),
            std::slice::from_raw_parts(grad.data_ptr().cast::<f32>(), len),
            std::slice::from_raw_parts_mut(m.data_ptr().cast::<f32>(), len),
            std::slice::from_raw_parts_mut(v.data_ptr().cast::<f32>(), len),
        )
    };
    let beta1 = s.beta1 as f32;
    let one_minus_beta1 = (1.0 - s.beta1) as f32;
    let beta2 = s.beta2 as f32;
    let one_minus_beta2 = (1.0 - s.beta2) as f32;
    let correction2 = s.correction2 as f32;
    let eps = s.eps as f32;
    let step_size = s.step_size as f32;
    for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(m).zip(v) {
        *m = *m * beta1 + g * one_minus_beta1;
        *v = *v * beta2 + g * g * one_minus_beta2;
        let denom = v.sqrt() / correction2 + eps;
        *p -= *m / denom * step_size;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(t: &Tensor) -> Vec<u32> {
        let values = Vec::<f32>::try_from(t.flatten(0, -1)).unwrap();
        values.iter().map(|v| v.to_bits()).collect()
    }

    fn scalars(t: i32) -> StepScalars {
        let (lr, beta1, beta2) = (2e-4, 0.5, 0.999);
        StepScalars {
            beta1,
            beta2,
            correction2: (1.0f64 - beta2.powi(t)).sqrt(),
            eps: 1e-8,
            step_size: lr / (1.0 - beta1.powi(t)),
        }
    }

    #[test]
    fn in_place_matches_tensor_ops() {
        tch::manual_seed(5);
        let options = (Kind::Float, Device::Cpu);
        let start = Tensor::randn([37, 129], options);
        let (mut p_ops, p_fused) = (start.copy(), start.copy());
        let (mut m_ops, m_fused) = (start.zeros_like(), start.zeros_like());
        let (mut v_ops, v_fused) = (start.zeros_like(), start.zeros_like());
        for t in 1..=12 {
            // Gradients across scales, with exact zeros, tiny and large values.
            let scale = 10f64.powi(t - 6);
            let keep = Tensor::rand([37, 129], options)
                .ge(0.2)
                .to_kind(Kind::Float);
            let grad = Tensor::randn([37, 129], options) * scale * keep;
            let s = scalars(t);
            assert!(update_in_place(&p_fused, &grad, &m_fused, &v_fused, &s));
            update_with_tensors(&mut p_ops, &grad, &mut m_ops, &mut v_ops, &s).unwrap();
            assert_eq!(bits(&m_fused), bits(&m_ops), "exp_avg at step {t}");
            assert_eq!(bits(&v_fused), bits(&v_ops), "exp_avg_sq at step {t}");
            assert_eq!(bits(&p_fused), bits(&p_ops), "parameter at step {t}");
        }
    }

    #[test]
    fn in_place_rejects_other_layouts() {
        let options = (Kind::Float, Device::Cpu);
        let p = Tensor::ones([3, 4], options);
        let (m, v) = (p.zeros_like(), p.zeros_like());
        let s = scalars(1);
        let transposed = Tensor::ones([4, 3], options).transpose(0, 1);
        assert!(!update_in_place(&p, &transposed, &m, &v, &s));
        let doubles = Tensor::ones([3, 4], (Kind::Double, Device::Cpu));
        assert!(!update_in_place(&p, &doubles, &m, &v, &s));
        assert!(!update_in_place(&p, &p, &m, &v, &s));
        assert_eq!(
            Vec::<f32>::try_from(p.flatten(0, -1)).unwrap(),
            vec![1.0; 12]
        );
    }

    #[test]
    fn steps_match_hand_computation() {
        let vars = VarStore::new(Device::Cpu);
        let p = vars
            .root()
            .var_copy("p", &Tensor::from_slice(&[1.0f32, -2.0]));
        let (lr, beta1, beta2, eps) = (0.1, 0.5, 0.999, 1e-8);
        let mut adam = Adam::new(&vars, lr, beta1, beta2, eps);
        // Step 1 with gradient g = (0.5, -4): m = (1 − β1)·g = (0.25, −2),
        // v = (1 − β2)·g² = (0.00025, 0.016), m̂ = m / 0.5 = (0.5, −4),
        // v̂ = v / 0.001 = (0.25, 16), so p moves by −lr·m̂/√v̂ = (−0.1, +0.1).
        // Step 2 with g = (1, 0): m = (0.625, −1), v = (0.00124975, 0.015984),
        // m̂ = m / 0.75, v̂ = v / (1 − 0.999²).
        let gradients = [[0.5f64, -4.0], [1.0, 0.0]];
        let mut expected = [1.0f64, -2.0];
        let (mut m, mut v) = ([0.0f64; 2], [0.0f64; 2]);
        for (t, g) in gradients.iter().enumerate() {
            let t = t as i32 + 1;
            adam.zero_grad();
            let weights = Tensor::from_slice(&[g[0] as f32, g[1] as f32]);
            (&p * weights).sum(Kind::Float).backward();
            adam.step().unwrap();
            for i in 0..2 {
                m[i] = beta1 * m[i] + (1.0 - beta1) * g[i];
                v[i] = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i];
                let m_hat = m[i] / (1.0 - beta1.powi(t));
                let v_hat = v[i] / (1.0 - beta2.powi(t));
                expected[i] -= lr * m_hat / (v_hat.sqrt() + eps);
            }
            if t == 1 {
                assert!((expected[0] - 0.9).abs() < 1e-6 && (expected[1] + 1.9).abs() < 1e-6);
            }
            for (i, want) in expected.iter().enumerate() {
                let got = p.double_value(&[i as i64]);
                assert!(
                    (got - want).abs() < 1e-6,
                    "step {t}, p[{i}] = {got}, want {want}"
                );
            }
        }
        // After step 2, p[0] = 0.9 − 0.1 · (0.625 / 0.75) / √(0.00124975 / 0.001999).
        assert!((expected[0] - 0.794_61).abs() < 1e-5, "{}", expected[0]);
        assert_eq!(adam.steps(), 2);
    }
}
