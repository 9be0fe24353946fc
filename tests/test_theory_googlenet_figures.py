"""The theory notebook says which GoogLeNet figure is which (issue 23): each figure it states
is recomputed here, so the text cannot drift from what it names."""
import nbformat
import torch
from torch import nn

from conftest import REPO

META = torch.device("meta")
# table 1 of Szegedy et al. (2014): (c_in, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)
TABLE = [(192, 64, 96, 128, 16, 32, 32), (256, 128, 128, 192, 32, 96, 64), (480, 192, 96, 208, 16, 48, 64),
         (512, 160, 112, 224, 24, 64, 64), (512, 128, 128, 256, 24, 64, 64), (512, 112, 144, 288, 32, 64, 64),
         (528, 256, 160, 320, 32, 128, 128), (832, 256, 160, 320, 32, 128, 128), (832, 384, 192, 384, 48, 128, 128)]
# the table's params column (thousands), conv1 to the linear layer
TABLE_PARAMS_K = [2.7, 112, 159, 380, 364, 437, 463, 580, 840, 1072, 1388, 1000]


def count(modules) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def torchvision_style() -> int:
    """torchvision's GoogLeNet without auxiliary classifiers: conv without bias + batch norm
    (BasicConv2d), 3x3 kernels in the branch the paper gives 5x5."""
    basic = lambda a, b, k: nn.Sequential(nn.Conv2d(a, b, k, bias=False, device=META), nn.BatchNorm2d(b, device=META))
    blocks = [[basic(c, c1, 1), basic(c, r3, 1), basic(r3, c3, 3), basic(c, r5, 1), basic(r5, c5, 3), basic(c, pp, 1)]
              for c, c1, r3, c3, r5, c5, pp in TABLE]
    return count([basic(3, 64, 7), basic(64, 64, 1), basic(64, 192, 3), nn.Linear(1024, 1000, device=META)]
                 + [m for block in blocks for m in block])


def notebook_text() -> str:
    notebook = nbformat.read(str(REPO / "release" / "theory" / "theory.ipynb"), as_version=4)
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


def test_torchvision_figure_is_torchvisions_definition():
    assert torchvision_style() == 6_624_904
    assert "6,624,904" in notebook_text()


def test_table_figure_is_the_sum_of_its_column():
    assert round(sum(TABLE_PARAMS_K) / 1000, 1) == 6.8
    assert "about 6.8 M" in notebook_text()


def paper_network(bias: bool) -> int:
    conv = lambda a, b, k: nn.Conv2d(a, b, k, bias=bias, device=META)
    blocks = [[conv(c, c1, 1), conv(c, r3, 1), conv(r3, c3, 3), conv(c, r5, 1), conv(r5, c5, 5), conv(c, pp, 1)]
              for c, c1, r3, c3, r5, c5, pp in TABLE]
    return count([conv(3, 64, 7), conv(64, 64, 1), conv(64, 192, 3), nn.Linear(1024, 1000, bias=bias, device=META)]
                 + [m for block in blocks for m in block])


def test_no_count_gives_the_seeds_four_million():
    assert "about 4 million" in notebook_text()
    counts = [paper_network(True), paper_network(False), torchvision_style(), sum(TABLE_PARAMS_K) * 1000]
    assert all(count > 6_500_000 for count in counts), counts
