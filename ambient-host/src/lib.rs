//! `ambient-host`: the AmbientGAN trainer on libtorch.
