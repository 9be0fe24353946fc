"""``hw``: the course's life cycle on top of nbgrader (release, autograde, feedback, export, demo)."""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from hwtools.course import Course


def _assignments(course: Course, names: list[str]) -> list[str]:
    known = course.assignments()
    if not names or names == ["all"]:
        return known
    unknown = [n for n in names if n not in known]
    if unknown:
        sys.exit(f"hw: unknown assignment(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return names


def cmd_release(course: Course, args) -> None:
    from hwtools.course import nbgrader_bridge
    from hwtools.course.release import release_assignment

    api = nbgrader_bridge.api(course.root)
    for assignment in _assignments(course, args.assignments):  # (each said as it is done: a refusal stops the rest)
        print(f"released {release_assignment(course, assignment, api).relative_to(course.root)}", flush=True)


def _split_students(course: Course, args) -> None:
    """``--students a b batchnorm`` takes the positional assignment too (argparse's ``+`` is
    greedy): a value naming an assignment and no submission folder is an assignment."""
    if not args.students:
        return
    known = set(course.assignments())
    moved = [s for s in args.students if s in known and not (course.submitted / s).is_dir()]
    args.students = [s for s in args.students if s not in moved]
    args.assignments = [*args.assignments, *moved]
    if moved and not args.students:
        sys.exit("hw: --students names no student (only assignments: " + ", ".join(moved) + ")")


def _check_students(course: Course, students: list[str], missing_as_zero: bool) -> None:
    """Students asked for by name must have a folder in submitted/ (a typo would record a phantom
    student at zero): else exit naming the close matches, before anything is written."""
    import difflib

    from hwtools.course.sanitize import terminal_safe

    present = sorted(p.name for p in course.submitted.iterdir() if p.is_dir()) if course.submitted.is_dir() else []
    unknown = [s for s in students if s not in present]
    if not unknown or missing_as_zero:
        return
    lines = []
    for student in unknown:
        close = difflib.get_close_matches(student, present, n=3, cutoff=0.5) or \
            [p for p in present if p.startswith(student)][:3]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        lines.append(f"{student}{hint}")
    sys.exit(terminal_safe(f"hw: no folder in {course.submitted.relative_to(course.root)}/ for "
                           f"{'; '.join(lines)}; nothing was graded (--missing-as-zero records them as zero)"))


def cmd_autograde(course: Course, args) -> list[dict]:
    from hwtools.course.autograde import autograde, summary_table

    from hwtools.course.release import release_problem

    _split_students(course, args)
    if args.students:
        _check_students(course, args.students, args.missing_as_zero)
    chosen = _assignments(course, args.assignments)
    for assignment in chosen:  # never graded against stale points (before anything is written)
        problem = release_problem(course, assignment)
        if problem:
            sys.exit(f"hw: {problem}; nothing was graded")
    assignments = []
    for assignment in chosen:
        if args.students or course.students(assignment):
            assignments.append(assignment)
        else:
            print(f"{assignment}: no submissions under {course.submitted.relative_to(course.root)}/")
    results = autograde(course, assignments, args.students, workers=args.workers, scheduler=args.scheduler,
                        force=args.force) if assignments else []
    print(summary_table(results))
    return results


def cmd_remove_student(course: Course, args) -> None:
    from hwtools.course.gradebook_writer import remove_student

    for line in remove_student(course, args.student):
        print(line)


def cmd_feedback(course: Course, args) -> None:
    """Pages for the graded submissions asked for; a line for what cannot get one (not released,
    no submissions, not graded yet) saying what to run, and exit status 1 when none was written."""
    from hwtools.course import student_id_problem
    from hwtools.course.export import gradebook_scores, recorded_assignments
    from hwtools.course.feedback import generate_feedback
    from hwtools.course.sanitize import terminal_safe

    released, written, missing = recorded_assignments(course), 0, []
    for assignment in _assignments(course, args.assignments):
        if assignment not in released:
            missing.append(f"{assignment} is not in the gradebook yet: run `hw release {assignment}`, then "
                           f"`hw autograde {assignment}`")
            continue
        asked = args.students or course.students(assignment) + sorted(course.refused_students(assignment))
        if not asked:
            missing.append(f"{assignment}: no submissions under {course.submitted.relative_to(course.root)}/ "
                           f"(collect them, then run `hw autograde {assignment}`)")
            continue
        graded = gradebook_scores(course, assignment, asked)
        ungraded = [s for s in asked if s not in graded and not student_id_problem(s)]
        if ungraded:
            missing.append(f"{assignment}: not graded yet, so no feedback for {_listed(ungraded)}: run "
                           f"`hw autograde {assignment}` first")
        todo = [s for s in asked if s in graded or student_id_problem(s)]
        if todo:
            generate_feedback(course, assignment, todo)
            print(f"{assignment}: feedback pages for {len(todo)} student(s) in "
                  f"{course.feedback.relative_to(course.root)}/<student>/{assignment}/")
            written += len(todo)
    for line in missing:  # (on stderr when they are all there is)
        print(terminal_safe(line), file=sys.stdout if written else sys.stderr)
    if not written:
        sys.exit("hw: no feedback written (see above)")


def _listed(students: list[str], most: int = 5) -> str:
    return ", ".join(students[:most]) + (f" and {len(students) - most} more" if len(students) > most else "")


def cmd_export(course: Course, args) -> None:
    from hwtools.course.export import export_grades, export_lms, pending_summary

    output = Path(args.output) if args.output else course.grades_csv  # (from any folder: the root)
    wide, long = export_grades(course, output, output.with_name("grades_long.csv"))
    print(f"wrote {wide} and {long}")
    if getattr(args, "lms", None):
        grades, points = export_lms(course, args.lms, output.parent)
        print(f"wrote {grades} (for {args.lms}) and {points}")
    pending = pending_summary(course)
    if pending:
        print(pending)


def cmd_report(course: Course, args) -> None:
    from hwtools.course.report import write_class_report

    output = Path(args.output) if args.output else course.class_report
    path = write_class_report(course, output, _assignments(course, args.assignments))
    print(f"wrote {path}")


def cmd_similarity(course: Course, args) -> None:
    from hwtools.course import similarity
    from hwtools.course.sanitize import terminal_safe

    assignment = _assignments(course, [args.assignment])[0]
    result = similarity.analyse(course, assignment, args.threshold)
    output = Path(args.output) if args.output else similarity.default_report(course, assignment)
    print(terminal_safe(similarity.summary(result)))
    print(f"wrote {similarity.write_report(result, output)} (for the course staff: never put it in feedback)")


def cmd_leaderboard(course: Course, args) -> None:
    from hwtools.course import leaderboard
    from hwtools.course.sanitize import terminal_safe

    assignment = _assignments(course, [args.assignment])[0]
    try:
        board = leaderboard.build(course, assignment, names=True if args.names else None)
    except leaderboard.NoLeaderboard as err:
        sys.exit(f"hw: {err}")
    html_path, csv_path = leaderboard.default_paths(course, assignment)
    if args.output:
        html_path = Path(args.output)
        csv_path = html_path.with_suffix(".csv")
    print(terminal_safe(leaderboard.summary(board)))
    for path in leaderboard.write(board, html_path, csv_path):
        print(f"wrote {path}")


def cmd_validate(course: Course | None, args) -> None:
    from hwtools.course.validate import validate_notebooks

    if not validate_notebooks(args.notebooks):
        sys.exit(1)


def cmd_demo(course: Course, args) -> None:
    """Release everything, build the sample class, autograde it, export grades."""
    from hwtools.course.sample_class import build_sample_class

    os.environ.setdefault("HW_DATA", "auto")
    released = course.assignments()
    cmd_release(course, argparse.Namespace(assignments=released))
    built = build_sample_class(course, released)
    print(f"sample class: {len(built)} submission(s) in submitted/")
    cmd_autograde(course, argparse.Namespace(assignments=released, students=None, workers=args.workers,
                                             scheduler=None, force=args.force, missing_as_zero=False))
    cmd_export(course, argparse.Namespace(output=str(course.grades_csv)))
    cmd_report(course, argparse.Namespace(output=str(course.class_report),
                                          assignments=released))


TRUSTED_HELP = ("run submissions WITHOUT the sandbox where this machine cannot give one (not root, no "
                "namespaces or cgroups): only for code you trust, never a class's")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="hw", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    release = sub.add_parser("release", help="generate release/ from source/ (solutions stripped)")
    release.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    release.set_defaults(run=cmd_release)
    grade = sub.add_parser("autograde", help="grade submitted/ in parallel, record grades, write feedback")
    grade.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    grade.add_argument("--students", nargs="+", help="only these students")
    grade.add_argument("--workers", type=int, help="parallel local workers (default: one per core)")
    grade.add_argument("--scheduler", help="an existing Dask scheduler: its address, e.g. tcp://host:8786, "
                       "or the file written by `dask scheduler --scheduler-file FILE.json`")
    grade.add_argument("--missing-as-zero", action="store_true",
                       help="record students named by --students who have no folder in submitted/ as zero")
    grade.add_argument("--force", action="store_true", help="regrade submissions already graded")
    grade.add_argument("--trusted-code", action="store_true", help=TRUSTED_HELP)
    grade.set_defaults(run=cmd_autograde)
    feedback = sub.add_parser("feedback", help="(re)generate feedback HTML, e.g. after manual grading")
    feedback.add_argument("assignments", nargs="*")
    feedback.add_argument("--students", nargs="+")
    feedback.set_defaults(run=cmd_feedback)
    remove = sub.add_parser("remove-student", help="remove a student recorded by mistake: gradebook rows, "
                            "autograded/ and feedback/ (their submitted/ folder stays)")
    remove.add_argument("student")
    remove.set_defaults(run=cmd_remove_student)
    export = sub.add_parser("export", help="write grades.csv (wide) and grades_long.csv (and an LMS's file: --lms)")
    export.add_argument("--output", help="the wide CSV (default: grades.csv at the course root, from any folder); "
                        "grades_long.csv (and the --lms files) go beside it")
    export.add_argument("--lms", choices=("canvas", "moodle", "plain"),
                        help="also write grades_<lms>.csv, the file that LMS's grade import takes (a row per student, "
                        "its id column, no (max) row), and points_possible.csv")
    export.set_defaults(run=cmd_export)
    report = sub.add_parser("report", help="class summary HTML: score histograms, which checks students fail")
    report.add_argument("assignments", nargs="*")
    report.add_argument("--output", help="default: reports/class_summary.html at the course root, from any folder")
    report.set_defaults(run=cmd_report)
    similar = sub.add_parser("similarity", help="TAs: which pairs of students' solutions look copied (HTML, reports/)")
    similar.add_argument("assignment")
    similar.add_argument("--threshold", type=float, default=0.5, help="flag pairs from this similarity on (0..1)")
    similar.add_argument("--output", help="default: reports/similarity_<assignment>.html at the course root")
    similar.set_defaults(run=cmd_similarity)
    board = sub.add_parser("leaderboard", help="a training assignment's class ranked by the metric the grader "
                           "measured (HTML and CSV, reports/)")
    board.add_argument("assignment")
    board.add_argument("--names", action="store_true", help="show student ids, not pseudonyms (or set "
                       "HW_LEADERBOARD_NAMES=1 for the course)")
    board.add_argument("--output", help="the HTML page (the CSV beside it); default: "
                       "reports/leaderboard_<assignment>.html at the course root")
    board.set_defaults(run=cmd_leaderboard)
    validate = sub.add_parser("validate", help="students: run a notebook's public tests (hidden tests grade more)")
    validate.add_argument("notebooks", nargs="+")
    validate.set_defaults(run=cmd_validate, needs_course=False)
    demo = sub.add_parser("demo", help="release all, autograde the sample class, export grades")
    demo.add_argument("--workers", type=int)
    demo.add_argument("--force", action="store_true")
    demo.add_argument("--trusted-code", action="store_true", help=TRUSTED_HELP)
    demo.set_defaults(run=cmd_demo)
    return top


def _warm_start(args):
    """Grading on this machine: the shared warm server starts before anything else, so its
    imports (seconds) overlap with this command's own."""
    if args.command in ("autograde", "demo") and not getattr(args, "scheduler", None):
        from hwtools import sandbox

        return sandbox.shared_warm_server()
    return contextlib.nullcontext()


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if getattr(args, "trusted_code", False):
        os.environ["HW_TRUSTED_CODE"] = "1"  # (read by hwtools.sandbox here and in the workers it forks)
    from hwtools.sandbox import SandboxUnavailable

    try:
        with _warm_start(args):
            from hwtools.course.autograde import NotReleased
            from hwtools.course.export import NothingRecorded
            from hwtools.course.release import ReleaseRefused

            try:
                args.run(Course.locate() if getattr(args, "needs_course", True) else None, args)
            except (NotReleased, ReleaseRefused, NothingRecorded, FileNotFoundError) as err:
                sys.exit(f"hw: {err}")
    except SandboxUnavailable as err:
        sys.exit(f"hw: {err}")


if __name__ == "__main__":
    main()
