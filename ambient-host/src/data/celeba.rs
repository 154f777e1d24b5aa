//! CelebA, or any folder of face photographs, as 64×64 colour images.
//!
//! Every regular file in the folder (not its subfolders) is tried as an image, in sorted
//! file-name order so that the data set is the same on every machine. The format is
//! guessed from the content and then from the extension, so JPEG and PNG files load
//! whatever their name. Each image is converted to 8-bit RGB: greyscale is repeated into
//! the three channels and an alpha channel is dropped. It is then centre-cropped to a
//! square of side `crop` (108 for CelebA's 178×218 aligned faces, as in the reference DCGAN
//! code) and resized to `size`×`size` with a triangle (bilinear) filter. The filter's
//! support widens with the reduction ratio, so downscaling averages every source pixel.
//! Values are mapped to `[-1, 1]` as `v / 127.5 - 1`.
//!
//! An image smaller than `crop` in either side is cropped to the largest centred square
//! that fits and then resized. A file that cannot be read or decoded is skipped with a
//! warning on standard error that names it, and is listed in [`CelebaImages::skipped`].
//! Files are decoded in parallel with rayon.

use std::path::{Path, PathBuf};

use ambient_core::Shape;
use image::imageops::FilterType;
use image::{ImageReader, RgbImage};
use rayon::prelude::*;

use super::decoded::{byte_to_signed, DecodedImages};

/// The number of files decoded in parallel before their results are appended.
const CHUNK_FILES: usize = 512;

/// The number of skipped files named one by one on standard error; later ones are counted.
const MAX_WARNINGS: usize = 10;

/// How to turn photographs into training images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CelebaOptions {
    /// The side of the centred square cut from each image before resizing.
    pub crop: u32,
    /// The side of the output images.
    pub size: u32,
    /// Stop after this many decoded images (files in sorted order); `None` reads them all.
    pub max_images: Option<usize>,
}

impl Default for CelebaOptions {
    /// Returns the reference code's settings: crop 108, resize to 64, every file.
    fn default() -> Self {
        Self {
            crop: 108,
            size: 64,
            max_images: None,
        }
    }
}

/// A file the loader could not use, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedFile {
    /// The file.
    pub path: PathBuf,
    /// The reading or decoding error.
    pub reason: String,
}

/// The images of a folder and the files that were skipped.
#[derive(Clone, Debug, PartialEq)]
pub struct CelebaImages {
    /// The decoded images, `[N, 3, size, size]` in `[-1, 1]`, without labels.
    pub images: DecodedImages,
    /// The files that were not images, in sorted order.
    pub skipped: Vec<SkippedFile>,
}

/// An error of loading a folder of images.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CelebaError {
    /// The folder could not be listed.
    #[error("cannot list the image folder {path}: {source}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// No file in the folder decoded as an image.
    #[error("{path} contains no readable JPEG or PNG image ({skipped} files skipped)")]
    Empty {
        /// The folder.
        path: PathBuf,
        /// The number of files tried and skipped.
        skipped: usize,
    },
    /// The crop or output side is zero.
    #[error("invalid image sizes: crop {crop} and size {size} must both be at least 1")]
    InvalidOptions {
        /// The crop side given.
        crop: u32,
        /// The output side given.
        size: u32,
    },
}

/// Loads the images of `dir` as the module documentation describes.
pub fn load(dir: &Path, options: &CelebaOptions) -> Result<CelebaImages, CelebaError> {
    if options.crop == 0 || options.size == 0 {
        return Err(CelebaError::InvalidOptions {
            crop: options.crop,
            size: options.size,
        });
    }
    let files = list_files(dir)?;
    let wanted = options.max_images.unwrap_or(usize::MAX);

    let mut pixels = Vec::new();
    let mut count = 0;
    let mut skipped = Vec::new();
    for chunk in files.chunks(CHUNK_FILES) {
        if count >= wanted {
            break;
        }
        let decoded: Vec<Result<Vec<f32>, String>> = chunk
            .par_iter()
            .map(|path| decode_file(path, options))
            .collect();
        for (path, result) in chunk.iter().zip(decoded) {
            if count >= wanted {
                break;
            }
            match result {
                Ok(image) => {
                    pixels.extend(image);
                    count += 1;
                }
                Err(reason) => skipped.push(SkippedFile {
                    path: path.clone(),
                    reason,
                }),
            }
        }
    }

    warn_skipped(&skipped);
    if count == 0 {
        return Err(CelebaError::Empty {
            path: dir.to_path_buf(),
            skipped: skipped.len(),
        });
    }
    let side = options.size as usize;
    let images = DecodedImages {
        source: dir.to_path_buf(),
        shape: Shape::new(3, side, side),
        pixels,
        labels: None,
    };
    Ok(CelebaImages { images, skipped })
}

/// Returns the regular files of `dir` (not its subfolders), sorted by name.
pub fn list_files(dir: &Path) -> Result<Vec<PathBuf>, CelebaError> {
    let io_error = |source| CelebaError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error)? {
        let entry = entry.map_err(io_error)?;
        // A symbolic link counts when it points to a file, as `Path::is_file` follows it.
        if entry.path().is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// Decodes one file into `[3, size, size]` values in `[-1, 1]`, or returns why it could
/// not.
pub fn decode_file(path: &Path, options: &CelebaOptions) -> Result<Vec<f32>, String> {
    let image = ImageReader::open(path)
        .and_then(|reader| reader.with_guessed_format())
        .map_err(|e| e.to_string())?
        .decode()
        .map_err(|e| e.to_string())?
        .into_rgb8();
    let square = crop_and_resize(&image, options.crop, options.size);
    Ok(to_planes(&square))
}

/// Cuts the centred square of side `min(crop, width, height)` and resizes it to
/// `size`×`size`. An odd margin leaves the extra column or row on the right or bottom.
pub fn crop_and_resize(image: &RgbImage, crop: u32, size: u32) -> RgbImage {
    let (width, height) = image.dimensions();
    let side = crop.min(width).min(height);
    let left = (width - side) / 2;
    let top = (height - side) / 2;
    let square = image::imageops::crop_imm(image, left, top, side, side).to_image();
    if side == size {
        return square;
    }
    image::imageops::resize(&square, size, size, FilterType::Triangle)
}

/// Returns the channel-major planes of an RGB image, mapped to `[-1, 1]`.
fn to_planes(image: &RgbImage) -> Vec<f32> {
    let plane = image.width() as usize * image.height() as usize;
    let mut values = vec![0.0; 3 * plane];
    for (i, pixel) in image.pixels().enumerate() {
        for (c, &v) in pixel.0.iter().enumerate() {
            values[c * plane + i] = byte_to_signed(v);
        }
    }
    values
}

fn warn_skipped(skipped: &[SkippedFile]) {
    for file in skipped.iter().take(MAX_WARNINGS) {
        eprintln!(
            "warning: skipped {}: not a readable image ({})",
            file.path.display(),
            file.reason
        );
    }
    if skipped.len() > MAX_WARNINGS {
        eprintln!(
            "warning: skipped {} more files that are not readable images",
            skipped.len() - MAX_WARNINGS
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma, Rgb, Rgba, RgbaImage};

    /// A folder under the system temporary directory, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let path =
                std::env::temp_dir().join(format!("ambient-celeba-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn options(crop: u32, size: u32) -> CelebaOptions {
        CelebaOptions {
            crop,
            size,
            max_images: None,
        }
    }

    /// Writes the four files of the loader test: a 120×100 RGB JPEG that is red on the
    /// left 60 columns and blue on the right, a grey PNG, a transparent RGBA PNG and a
    /// text file named like a JPEG.
    fn write_mixed_folder(dir: &Path) {
        let jpeg = RgbImage::from_fn(120, 100, |x, _| {
            if x < 60 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        });
        jpeg.save(dir.join("a.jpg")).unwrap();
        GrayImage::from_pixel(30, 40, Luma([51]))
            .save(dir.join("b.png"))
            .unwrap();
        RgbaImage::from_pixel(16, 16, Rgba([255, 0, 51, 0]))
            .save(dir.join("c.png"))
            .unwrap();
        std::fs::write(dir.join("x.jpg"), "not an image\n").unwrap();
        std::fs::create_dir(dir.join("subfolder")).unwrap();
    }

    #[test]
    fn mixed_folder_loads_three_and_skips_text() {
        let dir = TempDir::new("mixed");
        write_mixed_folder(&dir.0);

        let loaded = load(&dir.0, &options(108, 8)).unwrap();
        let images = &loaded.images;
        assert_eq!(images.shape, Shape::new(3, 8, 8));
        assert_eq!(images.len(), 3);
        assert_eq!(images.labels, None);
        assert_eq!(loaded.skipped.len(), 1);
        assert_eq!(loaded.skipped[0].path, dir.0.join("x.jpg"));

        // The JPEG's 100×100 centre square (columns 10..110) is half red, half blue, so
        // the left output column is red and the right one blue, up to JPEG error.
        let jpeg = images.image(0).unwrap();
        let (red, blue) = (&jpeg[..64], &jpeg[128..]);
        assert!(red[8] > 0.9, "left column red {}", red[8]);
        assert!(blue[8] < -0.9, "left column blue {}", blue[8]);
        assert!(red[15] < -0.9, "right column red {}", red[15]);
        assert!(blue[15] > 0.9, "right column blue {}", blue[15]);

        // Grey 51 is repeated into the three channels: 51 / 127.5 - 1 = -0.6.
        let grey = images.image(1).unwrap();
        assert!(
            grey.iter().all(|&v| (v - -0.6).abs() < 1e-6),
            "{:?}",
            &grey[..4]
        );

        // The alpha channel (0 here) is dropped, the colour kept.
        let rgba = images.image(2).unwrap();
        assert!(rgba[..64].iter().all(|&v| v == 1.0));
        assert!(rgba[64..128].iter().all(|&v| v == -1.0));
        assert!(rgba[128..].iter().all(|&v| (v - -0.6).abs() < 1e-6));
    }

    #[test]
    fn max_images_stops_in_file_order() {
        let dir = TempDir::new("max");
        write_mixed_folder(&dir.0);

        let mut limited = options(108, 4);
        limited.max_images = Some(2);
        let loaded = load(&dir.0, &limited).unwrap();
        assert_eq!(loaded.images.len(), 2);
        assert!((loaded.images.image(1).unwrap()[0] - -0.6).abs() < 1e-6);
        assert!(loaded.skipped.is_empty());
    }

    #[test]
    fn folder_without_images_is_rejected() {
        let dir = TempDir::new("none");
        std::fs::write(dir.0.join("x.jpg"), "not an image\n").unwrap();
        std::fs::write(dir.0.join("notes.txt"), "").unwrap();

        let error = load(&dir.0, &CelebaOptions::default()).unwrap_err();
        assert!(
            matches!(error, CelebaError::Empty { skipped: 2, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn missing_folder_is_named() {
        let path = std::env::temp_dir().join("ambient-celeba-no-such-folder");
        let error = load(&path, &CelebaOptions::default()).unwrap_err();
        assert!(matches!(error, CelebaError::Io { .. }));
        assert!(error.to_string().contains("ambient-celeba-no-such-folder"));
    }

    #[test]
    fn zero_size_is_rejected() {
        let error = load(Path::new("."), &options(108, 0)).unwrap_err();
        assert!(matches!(error, CelebaError::InvalidOptions { size: 0, .. }));
    }

    #[test]
    fn crop_takes_centre_square() {
        // 178×218, the CelebA aligned size: the 108 square starts at column 35, row 55.
        let image = RgbImage::from_fn(178, 218, |x, y| Rgb([x as u8, y as u8, 0]));
        let square = crop_and_resize(&image, 108, 108);
        assert_eq!(square.dimensions(), (108, 108));
        assert_eq!(square.get_pixel(0, 0).0, [35, 55, 0]);
        assert_eq!(square.get_pixel(107, 107).0, [142, 162, 0]);
    }

    #[test]
    fn small_image_crops_largest_square() {
        // 120×100 is below 108 in height, so the square is 100 wide, starting at column 10.
        let image = RgbImage::from_fn(120, 100, |x, y| Rgb([x as u8, y as u8, 0]));
        let square = crop_and_resize(&image, 108, 100);
        assert_eq!(square.dimensions(), (100, 100));
        assert_eq!(square.get_pixel(0, 0).0, [10, 0, 0]);
        assert_eq!(square.get_pixel(99, 99).0, [109, 99, 0]);
    }

    #[test]
    fn resize_averages_constant_image() {
        let image = RgbImage::from_pixel(178, 218, Rgb([10, 200, 90]));
        let small = crop_and_resize(&image, 108, 64);
        assert_eq!(small.dimensions(), (64, 64));
        assert!(small.pixels().all(|p| p.0 == [10, 200, 90]));
    }
}
