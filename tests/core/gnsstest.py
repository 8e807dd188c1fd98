# The app tests' receiver and board: a NEO-M8N with field TTFF deciles (StuartsProjects' hot
# starts 2-30 s, mean 12; cold 26-60 s, mean 41) and the T-Beam v1.2's budget costs as
# tagcore.gnss.profile.budget_costs makes them for a 3,000 mAh cell. Both runtimes.
from tagcore.app.budget import Costs
from tagcore.gnss.energy import Receiver

HOT = (2, 5, 7, 9, 10, 10, 12, 15, 20, 30)
COLD = (26, 29, 32, 35, 38, 41, 44, 47, 51, 60)
M8 = Receiver(32000, 29000, 9500, 20, 0, HOT, COLD, 7200, True, True, True, True)
COSTS = Costs(909, 74520, 1175000, 100000, 3000000, 790, 16)
