"""``photocloud train-classifier``: the default-category head, from the evaluation set kept in the repository."""

from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from photocloud.vision import classifier, evaluation


class Command(BaseCommand):
    help = (
        "Train the head for the seven default categories (and 'none of them') on the evaluation set, calibrated on "
        "leave-one-source-out predictions, and write it. --evaluate prints the leave-one-source-out figures instead. "
        "--pictures DIR first rebuilds the set from DIR/<category or other>/<source>__<name>.jpg "
        "(python -m photocloud.vision.training_data DIR PACKAGES), running the models; --add-pictures DIR adds DIR's "
        "sources to the set (replacing their earlier rows) and runs the models on DIR only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--pictures", type=Path, help="Rebuild the evaluation set from this labelled folder.")
        parser.add_argument(
            "--add-pictures",
            type=Path,
            help="Add this labelled folder's pictures to the evaluation set (replacing its sources' earlier rows).",
        )
        parser.add_argument("--set", type=Path, default=evaluation.SET, help="The evaluation set (.npz).")
        parser.add_argument("--output", type=Path, default=classifier.DEFAULT_HEAD)
        parser.add_argument("--evaluate", action="store_true", help="Print the figures; write no head.")

    def handle(self, *args, pictures, add_pictures, set, output, evaluate, **options):
        if pictures:
            found = self._analyse(pictures)
            evaluation.save(found, set)
            self.stdout.write(f"Wrote the evaluation set of {len(found.labels)} pictures to {set}")
        if add_pictures:
            if not set.exists():
                raise CommandError(f"no evaluation set at {set} to add to: build one with --pictures DIR")
            found = evaluation.combine(evaluation.load(set), self._analyse(add_pictures))
            evaluation.save(found, set)
            self.stdout.write(f"Wrote the evaluation set of {len(found.labels)} pictures to {set}")
        if not set.exists():
            raise CommandError(f"no evaluation set at {set}: build one with --pictures DIR")
        data = evaluation.load(set)
        held_out = evaluation.leave_one_source_out(data)
        if evaluate:
            result = evaluation.figures(evaluation.cross_fitted_probabilities(held_out, data), data)
            self.stdout.write("\n".join(evaluation.report(result, data)))
            return
        temperature = classifier.fit_temperature(held_out, data.labels)
        head = classifier.fit(*data.rows(np.ones(len(data.labels), bool)), data.labels).with_temperature(temperature)
        output.parent.mkdir(parents=True, exist_ok=True)
        head.save(output)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote the head trained on all {len(data.labels)} pictures (temperature {temperature:.2f}) to {output}"
            )
        )

    def _analyse(self, folder: Path) -> evaluation.Pictures:
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder")
        with tqdm(unit="picture", file=self.stderr._out) as progress:
            try:
                return evaluation.analyse_folder(folder, progress=progress.update)
            except ValueError as error:
                raise CommandError(str(error)) from error
