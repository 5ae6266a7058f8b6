"""The task table shared by the data pipeline and the model."""

# task -> the task-begin token the LLM emits (task assignment) and the task
# token fed after it, whose last hidden state feeds the task's head. Names
# follow the official TPO release. Configs that add a task pass their own
# table to both ``FormatTaskConversation`` and ``TPOModel``.
TPO_TASKS = dict(
    region=dict(begin='<box_begin>', token='<boxes>'),
    temporal=dict(begin='<time_begin>', token='<temp>'),
    mask=dict(begin='<track_begin>', token='<tracking>'),
)
