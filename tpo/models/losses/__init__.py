from .box_losses import GIoULoss, L1Loss, MSELoss, generalized_box_iou

__all__ = ['GIoULoss', 'L1Loss', 'MSELoss', 'generalized_box_iou']
