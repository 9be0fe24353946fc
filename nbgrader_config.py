"""nbgrader configuration of the course (read by nbgrader and by the hw command)."""
import os

from hwtools.course.feedback_page import EXPORTER_CONFIG as FEEDBACK_EXPORTER_CONFIG
from hwtools.grading.nbgrader_plugins import BENIGN_STDERR_PATTERN

c = get_config()  # noqa: F821  (injected by traitlets)

ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "deep-learning-hw"
c.CourseDirectory.root = ROOT
# Any SQLAlchemy URL (postgresql+psycopg://user@host/db for several graders); SQLite by default.
c.CourseDirectory.db_url = os.environ.get("HW_DB_URL", "sqlite:///" + os.path.join(ROOT, "gradebook.db"))

# Time limits per cell: ordinary cells, and cells tagged "training" (model fitting, tuning).
CELL_TIMEOUT_S = int(os.environ.get("HW_CELL_TIMEOUT", 120))
TRAINING_CELL_TIMEOUT_S = int(os.environ.get("HW_TRAINING_CELL_TIMEOUT", 900))


def cell_timeout(cell):
    return TRAINING_CELL_TIMEOUT_S if "training" in cell.get("metadata", {}).get("tags", []) else CELL_TIMEOUT_S


c.Execute.timeout = CELL_TIMEOUT_S
c.Execute.timeout_func = cell_timeout
c.Execute.interrupt_on_timeout = True

# Warnings and framework logs on stderr must not zero a correct cell (nbgrader's default).
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = BENIGN_STDERR_PATTERN

# Output caps: nbgrader's line limits, plus a size limit per output (hwtools).
c.LimitOutput.max_lines = 2000
c.LimitOutput.max_traceback = 100
c.Autograde.autograde_preprocessors = [
    "nbgrader.preprocessors.Execute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "hwtools.grading.nbgrader_plugins.LimitOutputBytes",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Deleted test cells come back (where they stood: hwtools fixes nbgrader 0.9.6 crashing when
# the cell before a deleted one is read-only); hidden tests never reach feedback.
c.OverwriteCells.add_missing_cells = True
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "hwtools.grading.nbgrader_plugins.RestoreDeletedCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Feedback pages: nbgrader's GetGrades that also notes the grades a TA has still to give; the
# summary (score per question, first thing to fix) read after hidden tests are removed and
# outputs sanitized; the course's template (hwtools/course/templates/hw_feedback, a child of
# nbgrader's "feedback") for GenerateFeedback only, so the formgrader keeps its own.
c.GenerateFeedback.preprocessors = [
    "hwtools.course.feedback_page.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "hwtools.course.sanitize.SanitizeOutputs",  # no student script reaches a TA's browser
    "hwtools.course.feedback_page.FeedbackSummary",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
for _key, _value in FEEDBACK_EXPORTER_CONFIG.items():
    setattr(c.GenerateFeedback.HTMLExporter, _key, _value)

# Submitted .py files are the students' work: never replace them with the solution.
c.Autograde.exclude_overwriting = {
    "batchnorm": ["forward_batchnorm.py"],
}

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# LMS uploads, ingested by `nbgrader zip_collect <assignment>`: the LMS's download (a zip or a
# folder) goes in downloaded/<assignment>/archive/ and holds a folder per student, named by the
# student's id, with the files the student uploaded (e.g. alice/batchnorm.ipynb and
# alice/forward_batchnorm.py). Adapt the pattern to another LMS's naming.
c.FileNameCollectorPlugin.named_regexp = r".*/(?P<student_id>[^/]+)/(?P<file_id>[^/]+)$"
c.FileNameCollectorPlugin.valid_ext = [".ipynb", ".py"]
