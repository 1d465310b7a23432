"""Data: preparation (``one_hot``, ``minibatches``, ``scale_pixels``, ``train_dev_split``),
MNIST (``mnist``), digit files (``digit_files``: Kaggle CSV, IDX), image folders (``images``),
toy data sets (``toy``) and augmentation (``augmentation``: random shifts, affine maps and
elastic distortions of a batch), one module per concept; everything public is re-exported here
and from ``functional_nn``."""

from functional_nn.data.augmentation import Augmentation, compose, elastic_distortion, random_affine, random_shift
from functional_nn.data.digit_files import DigitImages, load_digits_csv, load_idx, load_idx_digits
from functional_nn.data.images import ImageFolder, SkippedFile, class_folders, load_image_folder
from functional_nn.data.mnist import (
    MNIST,
    ChecksumError,
    DatasetUnavailableError,
    MNISTPixels,
    data_dir,
    load_mnist,
    load_mnist_pixels,
)
from functional_nn.data.preparation import Split, minibatches, one_hot, scale_pixels, train_dev_split
from functional_nn.data.toy import (
    TOY_DATASETS,
    ToyDataset,
    blob_centers,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
)

__all__ = [
    "Augmentation",
    "compose",
    "elastic_distortion",
    "random_affine",
    "random_shift",
    "MNIST",
    "MNISTPixels",
    "TOY_DATASETS",
    "ChecksumError",
    "DatasetUnavailableError",
    "DigitImages",
    "ImageFolder",
    "SkippedFile",
    "Split",
    "ToyDataset",
    "class_folders",
    "data_dir",
    "load_digits_csv",
    "load_idx",
    "load_idx_digits",
    "load_image_folder",
    "load_mnist",
    "load_mnist_pixels",
    "blob_centers",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spirals",
    "make_xor",
    "minibatches",
    "one_hot",
    "scale_pixels",
    "train_dev_split",
]
