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

#: Tasks without tokens of their own: their samples use the tokens of
#: another task and are served by its head. Tracking (a box-prompted
#: trajectory) is segmentation propagated from the first frame, so a
#: ``'track'`` sample answers with the mask tokens
#: (``<track_begin><tracking>``) and the mask head (SAM2) predicts its masks
#: and boxes; its question holds the ``<track_box>`` placeholder. A task
#: table that has a ``'track'`` entry of its own takes precedence.
TASK_ALIASES = dict(track='mask')

#: The placeholder of a user-given box in a prompt (tracking): its input
#: embedding comes from the box-prompt encoder.
BOX_PROMPT_TOKEN = '<track_box>'

#: The order in which the official TPO release added its tokens to the
#: Mistral tokenizer (ids 32000-32006); tokens are added in this order so
#: that converted checkpoints keep their embedding rows.
OFFICIAL_TOKEN_ORDER = ('<box_begin>', '<time_begin>', '<temp>', '<boxes>',
                        '<track_begin>', '<tracking>', BOX_PROMPT_TOKEN)
