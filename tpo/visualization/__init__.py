from .predictions import (BOX_COLOR, MASK_COLOR, draw_predictions,
                          save_animation, save_frame_grid, save_timeline,
                          write_pictures)

__all__ = [
    'BOX_COLOR', 'MASK_COLOR', 'draw_predictions', 'save_animation',
    'save_frame_grid', 'save_timeline', 'write_pictures'
]
