"""The exceptions colorizers raises; each message is written for the person who uploaded the photo."""


class ColorizerError(Exception):
    """Base class: anything the app should show as a friendly message rather than a traceback."""


class InvalidImageError(ColorizerError):
    """The upload is not an image we can read (not an image, truncated, corrupt, unsupported)."""


class ImageTooLargeError(InvalidImageError):
    """The upload has too many bytes or too many pixels."""


class ImageTooSmallError(InvalidImageError):
    """The upload is smaller than the minimum side length."""


class UnknownModelError(ColorizerError):
    """No model of that name is registered."""


class WeightsMissingError(ColorizerError):
    """A learned model's weights file is not in the weights folder."""


class ReferenceImageError(ColorizerError):
    """The colour reference could not be found or used."""
