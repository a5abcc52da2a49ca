# ruff: noqa: E501  (one known answer per line, with its citation)
"""Known answers of the curated timeline (issue 3), each with its citation, on both databases.

Each row: origin, HTS code, entered, known (None: after everything), MFN, facts about the goods,
the expected additional duty in percent, and the citation the answer rests on. Retroactive
actions are asked from both sides of each clock: known before and after the announcement,
entered before and after the effective date. A second table names, for a sample of questions,
every layer that applies and its rate, worked out by hand from the bundled events and the
instruments they cite (never from the code's own answers).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tariff_timeline import TariffTimeline

Case = tuple[str, str, str, str | None, str | None, dict[str, object], object, str]

CASES: list[Case] = [
    # 1. Section 232 steel and aluminium
    ("AU", "7208.10.15.00", "2019-06-01", None, None, {}, 0, "s232-au-exemption-2018: Australia exempt from the 25% steel tariff (SBS, Argus)"),
    ("AU", "7208.10.15.00", "2018-04-15", None, None, {}, 25, "Proclamation 9705: 25% steel from 23 Mar 2018, before the Australia exemption of 1 May 2018"),
    ("KR", "7208.10.15.00", "2019-06-01", None, None, {"in_quota": True}, 0, "s232-kr-steel-quota-2018: Korea's absolute quota in place of the 25% (Proclamation 9740)"),
    ("JP", "7208.10.15.00", "2023-01-01", None, None, {"in_quota": True}, 0, "s232-jp-steel-trq-2022: Japan TRQ, 0% within 1.25 Mt a year"),
    ("JP", "7208.10.15.00", "2025-03-12", None, None, {"in_quota": True}, 25, "Proclamation 10896: 25% for all from 12 Mar 2025, the Japan TRQ ended"),
    ("AU", "7601.10.30.00", "2025-03-12", None, None, {}, 25, "Proclamation 10895: aluminium 25%, the Australia exemption ended"),
    ("AU", "7601.10.30.00", "2025-03-12", "2025-02-09", None, {}, 0, "As known on 9 Feb 2025, before Proclamations 10895/10896: Australia still exempt"),
    ("DE", "7208.10.15.00", "2025-06-04", None, None, {}, 50, "Proclamation 10947: 50% from 4 Jun 2025"),
    ("DE", "7208.10.15.00", "2025-06-04", "2025-06-02", None, {}, 25, "Proclamation 10947 not yet known on 2 Jun 2025: 25%"),
    ("GB", "7208.10.15.00", "2025-06-04", None, None, {}, 25, "Proclamation 10947: the UK stays at 25%"),
    ("DE", "8482.20.00.90", "2025-08-20", None, "4", {"steel_content_share": "0.4"}, "26.6", "BIS inclusions of 18 Aug 2025 (s232-derivatives-407): 50% on the steel content (20); Proclamation 10947: the EU 15% all-in reciprocal on the non-metal 60% ((15 - 4) x 0.6 = 6.6)"),
    ("DE", "8482.20.00.90", "2025-08-20", "2025-08-14", "4", {"steel_content_share": "0.4"}, 11, "Before the inclusions notice of 15 Aug 2025: only the EU 15% all-in reciprocal (EO 14326; MFN taken as 4%)"),
    ("DE", "8482.20.00.90", "2026-05-01", None, None, {"metal_content_share": "0.4", "us_content_share": "0"}, 25, "Proclamation of 2 Apr 2026, Annex I-B: 25% on the full value"),
    ("DE", "8482.20.00.90", "2026-05-01", "2026-04-01", None, {"metal_content_share": "0.4", "steel_content_share": "0.4"}, 26, "As known before the 2 Apr 2026 proclamation: 50% on the steel content (20) and the Section 122 10% on the non-232 60% (6; Proclamation 11012)"),
    ("DE", "8482.20.00.90", "2026-05-01", None, None, {"metal_content_share": "0.1"}, 10, "Proclamation of 2 Apr 2026: 15% or less metal content is outside the 232; the Section 122 10% applies (Proclamation 11012)"),
    ("DE", "8482.20.00.90", "2026-05-01", None, None, {"metal_content_share": "0.4", "us_content_share": "0.96"}, 10, "Proclamation of 2 Apr 2026: 10% for goods made from US-origin metal (95%)"),
    ("GB", "8482.20.00.90", "2026-05-01", None, None, {"metal_content_share": "0.4", "us_content_share": "0"}, 15, "Proclamation of 2 Apr 2026: UK Annex I-B goods at 15% (TradeFacts)"),
    ("DE", "8479.89.92.00", "2026-05-01", None, None, {"metal_content_share": "0.6", "us_content_share": "0"}, 15, "Proclamation of 2 Apr 2026, Annex III: 15% on industrial equipment through 2027"),
    ("DE", "8433.51.00.10", "2026-05-01", None, None, {"metal_content_share": "0.6", "us_content_share": "0.5"}, 25, "Proclamation of 2 Apr 2026, Annex I-B: combines at 25%"),
    ("DE", "8433.51.00.10", "2026-06-10", None, None, {"metal_content_share": "0.6", "us_content_share": "0.5"}, 15, "Proclamation of 1 Jun 2026: agricultural equipment 25% -> 15% from 8 Jun 2026"),
    ("DE", "8482.20.00.90", "2026-06-10", None, None, {"metal_content_share": "0.4", "us_content_share": "0.85"}, 10, "Proclamation of 1 Jun 2026: at least 85% US metal pays 10% (exactly 85% is at least 85%)"),
    ("DE", "8482.20.00.90", "2026-06-10", None, None, {"metal_content_share": "0.4", "us_content_share": "0.8499"}, 25, "Proclamation of 1 Jun 2026: just under 85% US metal keeps Annex I-B's 25%"),
    # 2. IEEPA reciprocal
    ("VN", "9503.00.00.90", "2025-04-05", None, None, {}, 10, "EO 14257: 10% baseline from 5 Apr 2025"),
    ("VN", "9503.00.00.90", "2025-04-09", None, None, {}, 46, "EO 14257 Annex I: Vietnam 46% replaces the baseline on 9 Apr"),
    ("VN", "9503.00.00.90", "2025-04-10", None, None, {}, 10, "EO 14266: country rates paused from 10 Apr, 10% applies"),
    ("VN", "9503.00.00.90", "2025-07-15", "2025-07-06", None, {}, 46, "As known before EO 14316 (7 Jul 2025): the pause was to end on 9 Jul"),
    ("VN", "9503.00.00.90", "2025-07-15", None, None, {}, 10, "EO 14316: pause extended to 1 Aug 2025"),
    ("VN", "9503.00.00.90", "2025-08-07", None, None, {}, 20, "EO 14326: Vietnam 20% from 7 Aug 2025"),
    ("CH", "9503.00.00.90", "2025-08-07", None, None, {}, 39, "EO 14326: Switzerland 39%"),
    ("VN", "2709.00.20.90", "2025-04-09", None, None, {}, 0, "EO 14257 Annex II: energy (crude oil) not subject to the reciprocal tariff"),
    ("VN", "8471.30.01.00", "2025-04-07", "2025-04-10", None, {}, 10, "As known before the 11 Apr 2025 memorandum: laptops paid the baseline"),
    ("VN", "8471.30.01.00", "2025-04-07", "2025-04-12", None, {}, 0, "Memorandum of 11 Apr 2025: electronics exempt, retroactive to 5 Apr"),
    ("CN", "8517.13.00.00", "2025-04-15", None, None, {}, 20, "Memorandum of 11 Apr 2025: smartphones out of China's 125%; the 20% fentanyl duty still applies (EO 14228)"),
    ("CH", "7108.12.10.13", "2025-09-10", None, None, {}, 0, "EO 14346: bullion added to Annex II from 8 Sep 2025"),
    ("CH", "7108.12.10.13", "2025-09-05", None, None, {}, 39, "Before EO 14346 (8 Sep 2025): gold bars paid Switzerland's 39%"),
    ("DE", "8802.40.01.80", "2025-09-10", "2025-09-20", "0", {}, 15, "EO 14326: EU 15% all-in; the aircraft exemption was not yet known"),
    ("DE", "8802.40.01.80", "2025-09-10", "2025-09-30", "0", {"civil_aircraft_use": True}, 0, "Notice of 25 Sep 2025 (EO 14346 PTAAP): EU civil aircraft MFN only, retroactive to 1 Sep"),
    ("VN", "0901.11.00.15", "2025-11-13", "2025-11-13", None, {}, 20, "As known on 13 Nov 2025: coffee paid Vietnam's 20% (EO 14326)"),
    ("VN", "0901.11.00.15", "2025-11-13", "2025-11-15", None, {}, 0, "Order of 14 Nov 2025: agricultural goods exempt, retroactive to 13 Nov"),
    ("VN", "0901.11.00.15", "2025-11-12", "2025-11-15", None, {}, 20, "Order of 14 Nov 2025: the exemption starts on 13 Nov, not before"),
    # 3. Section 232 autos and parts, the offset, the UK quota
    ("JP", "8703.23.01.90", "2025-04-03", None, "2.5", {}, 25, "Proclamation 10908: 25% on cars from 3 Apr 2025; no reciprocal on 232 goods (EO 14257 s.3(b))"),
    ("DE", "8409.91.10.40", "2025-05-03", None, None, {"end_use": "other"}, 25, "Proclamation 10908: 25% on listed auto parts from 3 May 2025"),
    ("DE", "8409.91.10.40", "2025-05-03", None, None, {"end_use": "us_vehicle_assembly_offset"}, 0, "Proclamation 10925: parts covered by the US-assembly offset"),
    ("GB", "8703.23.01.90", "2025-07-01", None, "2.5", {"in_quota": True}, "7.5", "EO 14309: 100,000 UK cars a year at 10% all-in (7.5% + 2.5% MFN)"),
    ("GB", "8703.23.01.90", "2025-07-01", None, "2.5", {"in_quota": False}, 25, "EO 14309: UK cars above the quota pay 25%"),
    ("GB", "8703.23.01.90", "2025-07-01", "2025-06-15", "2.5", {"in_quota": True}, 25, "As known before EO 14309 (16 Jun 2025): no UK quota yet"),
    ("CA", "8703.23.01.90", "2025-05-01", None, "2.5", {"usmca_qualifying": False}, 25, "EO 14289: auto 232 goods do not also pay the Canada IEEPA duty"),
    ("DE", "8708.10.30.50", "2025-09-01", None, "2.5", {"aluminium_content_share": "0.5"}, "12.5", "EU notice: auto parts 15% all-in; EO 14289: auto parts under the 232 do not also pay the aluminium derivative duty"),
    # 4. China
    ("CN", "9503.00.00.90", "2025-02-10", None, None, {}, 10, "EO 14195: 10% fentanyl duty from 4 Feb 2025"),
    ("CN", "9503.00.00.90", "2025-03-10", None, None, {}, 20, "EO 14228: fentanyl raised to 20% from 4 Mar 2025"),
    ("CN", "9503.00.00.90", "2025-04-09", "2025-04-07", None, {}, 54, "EO 14257 Annex I: China 34% plus fentanyl 20%, as known before EO 14259"),
    ("CN", "9503.00.00.90", "2025-04-09", None, None, {}, 104, "EO 14259: China 84% plus fentanyl 20%"),
    ("CN", "9503.00.00.90", "2025-04-10", None, None, {}, 145, "EO 14266: China 125% plus fentanyl 20%"),
    ("CN", "9503.00.00.90", "2025-05-14", "2025-05-11", None, {}, 145, "As known before the Geneva statement (12 May 2025): 125% + 20%"),
    ("CN", "9503.00.00.90", "2025-05-14", None, None, {}, 30, "EO 14298: Geneva truce, China 10% + fentanyl 20%"),
    ("CN", "9503.00.00.90", "2025-08-15", "2025-08-10", None, {}, 54, "As known before EO 14334: the suspension ended on 12 Aug, 34% + 20%"),
    ("CN", "9503.00.00.90", "2025-08-15", None, None, {}, 30, "EO 14334: suspension extended to 10 Nov 2025"),
    ("CN", "9503.00.00.90", "2025-11-05", None, None, {}, 30, "cn-100pct-threat: the extra 100% was never imposed"),
    ("CN", "9503.00.00.90", "2025-11-10", None, None, {}, 20, "EO 14358 and the 4 Nov 2025 order: reciprocal 10% held, fentanyl cut to 10%"),
    # 5. Canada and Mexico
    ("CA", "9503.00.00.90", "2025-02-10", None, None, {"usmca_qualifying": False}, 0, "Pause of 3 Feb 2025: the Canada duty did not take effect on 4 Feb"),
    ("CA", "9503.00.00.90", "2025-03-05", None, None, {"usmca_qualifying": True}, 25, "EO 14193 in effect from 4 Mar 2025; the USMCA exemption only from 7 Mar"),
    ("CA", "9503.00.00.90", "2025-04-01", None, None, {"usmca_qualifying": True}, 0, "Orders of 6 Mar 2025: USMCA-qualifying goods exempt"),
    ("CA", "9503.00.00.90", "2025-04-01", None, None, {"usmca_qualifying": False}, 25, "EO 14193: 25% on non-USMCA Canadian goods (not subject to the reciprocal baseline)"),
    ("CA", "2709.00.20.10", "2025-04-01", None, None, {"usmca_qualifying": False}, 10, "EO 14193: Canadian energy at 10%"),
    ("CA", "9503.00.00.90", "2025-08-05", None, None, {"usmca_qualifying": False}, 35, "Order of 31 Jul 2025: Canada 35% from 1 Aug"),
    ("MX", "9503.00.00.90", "2025-08-05", None, None, {"usmca_qualifying": False}, 25, "ieepa-mx-90day-extension: the threatened 30% was deferred; 25% stays"),
    ("CA", "7208.10.15.00", "2025-05-01", None, None, {"usmca_qualifying": False}, 25, "EO 14289: goods under the Canada IEEPA duty do not also pay steel 232"),
    ("CA", "7208.10.15.00", "2025-06-10", None, None, {"usmca_qualifying": False}, 50, "Proclamation 10947: metals 232 (50%) takes precedence over the Canada IEEPA duty"),
    # 6. Brazil
    ("BR", "9503.00.00.90", "2025-08-06", None, None, {}, 50, "EO 14323: 40% on top of the 10% reciprocal"),
    ("BR", "2009.12.25.00", "2025-08-06", None, None, {}, 10, "EO 14323 Annex I: orange juice exempt from the 40%"),
    ("BR", "8802.40.01.80", "2025-08-06", None, None, {}, 10, "EO 14323 Annex I: civil aircraft exempt from the 40%"),
    ("BR", "0901.11.00.15", "2025-11-14", "2025-11-19", None, {}, 40, "Coffee: reciprocal exempt (order of 14 Nov) but the Brazil 40% removal not yet known"),
    ("BR", "0901.11.00.15", "2025-11-14", "2025-11-21", None, {}, 0, "Order of 20 Nov 2025: Brazil 40% lifted for coffee, retroactive to 13 Nov"),
    ("BR", "0901.11.00.15", "2025-11-12", "2025-11-21", None, {}, 50, "Before 13 Nov 2025 coffee paid 40% + 10%"),
    ("BR", "2709.00.20.90", "2025-08-06", None, None, {}, 0, "EO 14323 Annex I: crude oil exempt from the 40%; energy is in Annex II of EO 14257"),
    # 7. India
    ("IN", "9503.00.00.90", "2025-08-26", None, None, {}, 25, "EO 14326: India 25% reciprocal, the Russian-oil duty not yet in effect"),
    ("IN", "9503.00.00.90", "2025-08-27", None, None, {}, 50, "EO 14329: extra 25% from 27 Aug 2025"),
    ("IN", "2709.00.20.90", "2025-09-01", None, None, {}, 0, "EO 14329 excludes Annex II goods"),
    ("IN", "9503.00.00.90", "2026-02-07", None, None, {}, 25, "EO 14384: extra 25% removed from 7 Feb 2026"),
    ("IN", "9503.00.00.90", "2026-02-07", "2026-02-05", None, {}, 50, "As known before EO 14384 (6 Feb 2026): still 50%"),
    # 8. Copper, lumber and wood, trucks, semiconductors, pharmaceuticals
    ("CL", "7408.11.60.00", "2025-08-01", None, None, {"copper_content_share": "1"}, 50, "Copper proclamation of 30 Jul 2025: 50% on the copper content of semi-finished copper"),
    ("CL", "7403.11.00.00", "2025-08-01", None, None, {}, 0, "Copper proclamation: cathodes outside the 232 for all origins (not a Chile exemption); Annex II of EO 14257 keeps copper out of the reciprocal"),
    ("CA", "4407.11.00.02", "2025-10-14", None, None, {"usmca_qualifying": False}, 10, "Timber proclamation of 29 Sep 2025: 10% softwood lumber, instead of the Canada IEEPA duty"),
    ("VN", "9401.61.40.11", "2025-10-14", None, None, {}, 25, "Timber proclamation: 25% upholstered wooden furniture; no reciprocal on 232 goods"),
    ("VN", "9401.61.40.11", "2026-02-01", "2025-12-30", None, {}, 30, "As known before the 31 Dec 2025 proclamation: 30% scheduled from 1 Jan 2026"),
    ("VN", "9401.61.40.11", "2026-02-01", None, None, {}, 25, "Proclamation of 31 Dec 2025: the increase postponed to 1 Jan 2027"),
    ("VN", "9401.61.40.11", "2027-02-01", None, None, {}, 30, "Proclamation of 31 Dec 2025: 30% from 1 Jan 2027"),
    ("SE", "8704.23.01.00", "2025-11-01", None, None, {}, 25, "Proclamation 10984: 25% on heavy trucks; 232 goods pay no reciprocal (EO 14257 s.3(b))"),
    ("DE", "8702.20.31.00", "2025-11-01", None, "2", {}, 10, "Proclamation 10984: 10% on buses"),
    ("TW", "8542.31.00.15", "2025-08-10", None, None, {}, 0, "s232-semis-100-announcement: the ~100% chip tariff was only announced; chips are outside the reciprocal (memorandum of 11 Apr 2025)"),
    ("TW", "8473.30.11.40", "2026-01-20", None, None, {"end_use": "other"}, 25, "Proclamation 11002: 25% on listed advanced computing chips"),
    ("TW", "8473.30.11.40", "2026-01-20", None, None, {"end_use": "us_data_center"}, 0, "Proclamation 11002: end-use exemption for US data centers"),
    ("IE", "3004.20.00.65", "2025-10-02", None, "0", {}, 0, "s232-pharma-oct1-paused: the 100% of 1 Oct 2025 never took effect; medicaments are in Annex II of EO 14257"),
    ("IN", "3004.20.00.65", "2026-08-01", None, None, {}, 100, "Pharma proclamation of 2 Apr 2026: 100% from 31 Jul 2026"),
    ("IE", "3004.20.00.65", "2026-08-01", None, None, {}, 15, "Pharma proclamation of 2 Apr 2026: EU capped at 15%"),
    # 9. Deals
    ("DE", "8703.23.01.90", "2025-08-15", "2025-09-01", "2.5", {}, 25, "As known before the EU notice of 24 Sep 2025: EU cars paid 25%"),
    ("DE", "8703.23.01.90", "2025-08-15", "2025-09-30", "2.5", {}, "12.5", "EU notice of 24 Sep 2025: cars 15% all-in, retroactive to 1 Aug"),
    ("DE", "8703.23.01.90", "2025-07-31", "2025-09-30", "2.5", {}, 25, "EU notice: the 15% starts on 1 Aug 2025, not before"),
    ("DE", "9503.00.00.90", "2025-08-07", None, "0", {}, 15, "EO 14326: EU 15% all-in (MFN 0)"),
    ("FR", "2204.21.50.40", "2025-08-07", None, "6.3", {}, "8.7", "EO 14326: EU 15% all-in, MFN 6.3%"),
    ("JP", "0201.30.50.15", "2025-08-20", "2025-09-01", "26.4", {}, 15, "As known before EO 14345: Japan's 15% stacked on MFN (jp-stacking-dispute)"),
    ("JP", "0201.30.50.15", "2025-08-20", "2025-09-05", "26.4", {}, 0, "EO 14345: Japan 15% all-in retroactive to 7 Aug; MFN above 15% means no reciprocal"),
    ("JP", "8703.23.01.90", "2025-09-16", None, "2.5", {}, "12.5", "EO 14345: Japanese cars 15% all-in from 16 Sep 2025"),
    ("JP", "8703.23.01.90", "2025-09-15", None, "2.5", {}, 25, "EO 14345: not retroactive for cars, 25% before 16 Sep"),
    ("KR", "8703.23.01.90", "2025-11-05", "2025-11-30", "0", {}, 25, "As known before the Korea notice of 3 Dec 2025: 25%"),
    ("KR", "8703.23.01.90", "2025-11-05", "2025-12-05", "0", {}, 15, "Korea notice of 3 Dec 2025: cars 15% all-in, retroactive to 1 Nov"),
    ("KR", "8703.23.01.90", "2025-10-25", "2025-12-05", "0", {}, 25, "Korea notice: not before 1 Nov 2025"),
    ("CH", "9503.00.00.90", "2025-11-20", "2025-11-30", "0", {}, 39, "Before the Swiss retroactivity was confirmed (10 Dec 2025): 39%"),
    ("CH", "9503.00.00.90", "2025-11-20", "2025-12-15", "0", {}, 15, "ch-39-to-15: 15% ceiling retroactive to 14 Nov 2025"),
    ("CH", "9503.00.00.90", "2025-11-13", "2025-12-15", "0", {}, 39, "ch-39-to-15: not before 14 Nov 2025"),
    ("GB", "9503.00.00.90", "2025-08-07", None, None, {}, 10, "uk-epd-announced / EO 14326: the UK stays at the 10% baseline"),
    ("KH", "9503.00.00.90", "2025-11-01", None, None, {}, 19, "asean-agreements-oct26 and EO 14326: Cambodia 19% kept (was 49% in April)"),
    # 10. Courts, end of IEEPA, Section 122
    ("CN", "9503.00.00.90", "2025-06-01", None, None, {}, 30, "cit-vos-selections and cafc-stays-2025: the rulings change no rate; collection continued"),
    ("JP", "9503.00.00.90", "2026-02-23", None, "0", {}, 15, "Last day of IEEPA collection: Japan 15% all-in"),
    ("CN", "9503.00.00.90", "2026-02-23", None, None, {}, 20, "Last day of IEEPA collection: China 10% reciprocal + 10% fentanyl"),
    ("CA", "9503.00.00.90", "2026-02-24", None, None, {"usmca_qualifying": False}, 10, "Order of 20 Feb 2026: the Canada IEEPA duty ends; Proclamation 11012: 10% from 24 Feb"),
    ("JP", "9503.00.00.90", "2026-03-01", "2026-02-19", "0", {}, 15, "As known before the Supreme Court decision (20 Feb 2026): IEEPA duties expected to continue"),
    ("JP", "9503.00.00.90", "2026-03-01", None, "0", {}, 10, "Learning Resources v. Trump; IEEPA collection ended 24 Feb 2026; Proclamation 11012: 10% Section 122"),
    ("CN", "9503.00.00.90", "2026-03-01", None, None, {}, 10, "IEEPA collection ended (fentanyl and reciprocal); Section 122 10%"),
    ("CA", "9503.00.00.90", "2026-03-01", None, None, {"usmca_qualifying": True}, 0, "Proclamation 11012: USMCA-qualifying goods outside the Section 122 surcharge"),
    ("DE", "7208.10.15.00", "2026-03-01", None, None, {}, 50, "Proclamation 11012: Section 232 goods do not pay the Section 122 surcharge"),
    ("CN", "9503.00.00.90", "2025-06-01", "2026-06-01", None, {}, 30, "cit-ieepa-refund-order-2026-03-04 and CAPE: refunds are claimed, the duty owed at entry is unchanged"),
    ("JP", "9503.00.00.90", "2026-05-10", None, "0", {}, 10, "cit-s122-ruling-2026-05-07: relief only for plaintiffs; 10% still collected from others"),
    ("JP", "9503.00.00.90", "2026-07-24", None, "0", {}, 0, "Proclamation 11012: the 150 days end on 24 Jul 2026 (later developments not found)"),
    # Retroactive actions, the other direction on the effective clock
    ("VN", "8471.30.01.00", "2025-04-04", "2025-04-12", None, {}, 0, "Before the baseline of 5 Apr 2025 (EO 14257): nothing to exempt"),
    ("JP", "0201.30.50.15", "2025-08-05", "2025-09-05", "26.4", {}, 10, "EO 14345 reaches back only to 7 Aug 2025: before it, the 10% baseline during the pause (EO 14316/14326)"),
    ("DE", "8802.40.01.80", "2025-08-25", "2025-09-30", "0", {}, 15, "EU notice of 24 Sep 2025: the aircraft exemption reaches back only to 1 Sep"),
    ("KR", "9503.00.00.90", "2025-11-20", "2025-11-30", "8", {}, 15, "As known before the Korea notice of 3 Dec 2025: 15% on top of MFN (EO 14326)"),
    ("KR", "9503.00.00.90", "2025-11-20", "2025-12-05", "8", {}, 7, "Korea notice of 3 Dec 2025: 'higher of MFN or 15%' retroactive to 14 Nov"),
    ("KR", "9503.00.00.90", "2025-11-10", "2025-12-05", "8", {}, 15, "Korea notice: the reciprocal formula starts on 14 Nov 2025"),
    ("KR", "8802.40.01.80", "2025-11-20", "2025-11-30", "0", {}, 15, "As known before the Korea notice: Korean aircraft paid the 15% reciprocal"),
    ("KR", "8802.40.01.80", "2025-11-20", "2025-12-05", "0", {"civil_aircraft_use": True}, 0, "Korea notice of 3 Dec 2025: civil aircraft exempt, retroactive to 14 Nov"),
    ("KR", "8802.40.01.80", "2025-11-10", "2025-12-05", "0", {}, 15, "Korea notice: the aircraft exemption starts on 14 Nov 2025"),
    ("KR", "9401.61.40.11", "2025-11-20", "2025-11-30", "0", {}, 25, "As known before the Korea notice: upholstered furniture at 25% (timber proclamation)"),
    ("KR", "9401.61.40.11", "2025-11-20", "2025-12-05", "0", {}, 15, "Korea notice of 3 Dec 2025: Korean wood products at most 15%, retroactive to 14 Nov"),
    ("KR", "9401.61.40.11", "2025-11-10", "2025-12-05", "0", {}, 25, "Korea notice: the wood cap starts on 14 Nov 2025"),
    ("CH", "8802.40.01.80", "2025-11-20", "2025-11-30", "0", {}, 39, "Before the Swiss implementation was known: aircraft paid 39%"),
    ("CH", "8802.40.01.80", "2025-11-20", "2025-12-15", "0", {"civil_aircraft_use": True}, 0, "ch-39-to-15: Swiss civil aircraft MFN only, retroactive to 14 Nov 2025"),
    ("CH", "8802.40.01.80", "2025-11-20", "2025-12-15", "0", {"civil_aircraft_use": False}, 15, "ch-39-to-15: the exemption is for civil aircraft only; other aircraft pay the 15% ceiling"),
]


LayerCase = tuple[str, str, str, str | None, str | None, dict[str, object], dict[str, str], str]

DE_MINIMIS = {"de-minimis-suspension": "0"}
"""EO 14324: from 29 Aug 2025 a 0% layer for every origin (de minimis ended; no ad valorem)."""

# Which layers apply and at what rate, worked out by hand from the bundled events and the
# instruments they cite (origin, HTS, entered, known, MFN, facts, {measure: percent}, citation).
# Layers not named here must not apply; the additional duty is their sum.
LAYER_CASES: list[LayerCase] = [
    # Proclamation 10947: steel 50%; the baseline is not stacked on 232 goods (EO 14257 s.3(b))
    ("DE", "7208.10.15.00", "2025-06-04", None, None, {}, {"s232-steel": "50"}, "Proclamation 10947"),
    # Proclamation 10947: the UK stays at 25% (an exemption at a reduced rate)
    ("GB", "7208.10.15.00", "2025-06-04", None, None, {}, {"s232-steel": "25"}, "Proclamation 10947, UK at 25%"),
    # BIS inclusions of 18 Aug 2025: 50% x 0.4 steel content = 20; Proclamation 10947 and
    # EO 14326: the EU 15% all-in on the non-metal 60%, (15 - 4) x 0.6 = 6.6
    ("DE", "8482.20.00.90", "2025-08-20", None, "4", {"steel_content_share": "0.4"}, {"s232-steel-derivatives": "20", "ieepa-recip-eu": "6.6"}, "BIS inclusions; Proclamation 10947 remainder"),
    # Proclamation 11012: Section 122 10% on the non-232 60% = 6; steel derivative 50% x 0.4 = 20
    ("DE", "8482.20.00.90", "2026-05-01", "2026-04-01", None, {"metal_content_share": "0.4", "steel_content_share": "0.4"}, {"s232-steel-derivatives": "20", "s122-surcharge": "6"} | DE_MINIMIS, "Proclamation 11012 remainder"),
    # Proclamation of 2 Apr 2026: under 15% metal content is outside the 232; Section 122 10%
    ("DE", "8482.20.00.90", "2026-05-01", None, None, {"metal_content_share": "0.1"}, {"s122-surcharge": "10"} | DE_MINIMIS, "Proclamation of 2 Apr 2026, low metal content"),
    # Proclamation of 1 Jun 2026: at least 85% US metal, 10% instead of Annex I-B's 25%
    ("DE", "8482.20.00.90", "2026-06-10", None, None, {"metal_content_share": "0.4", "us_content_share": "0.85"}, {"s232-metals-annex-1b": "10"} | DE_MINIMIS, "Proclamation of 1 Jun 2026, 85% band"),
    # Proclamation of 2 Apr 2026, Annex III: industrial equipment 15%; no Section 122 on 232 goods
    ("DE", "8479.89.92.00", "2026-05-01", None, None, {"metal_content_share": "0.6", "us_content_share": "0"}, {"s232-metals-annex-3": "15"} | DE_MINIMIS, "Proclamation of 2 Apr 2026, Annex III"),
    # Proclamation of 1 Jun 2026: agricultural equipment 15% instead of 25%
    ("DE", "8433.51.00.10", "2026-06-10", None, None, {"metal_content_share": "0.6", "us_content_share": "0.5"}, {"s232-metals-annex-1b": "15"} | DE_MINIMIS, "Proclamation of 1 Jun 2026, farm band"),
    # EO 14257 Annex I: Vietnam 46% replaces the 10% baseline
    ("VN", "9503.00.00.90", "2025-04-09", None, None, {}, {"ieepa-recip-vn": "46"}, "EO 14257 Annex I"),
    # EO 14266: country rates paused, the baseline applies
    ("VN", "9503.00.00.90", "2025-04-10", None, None, {}, {"ieepa-recip-baseline": "10"}, "EO 14266"),
    # EO 14266: China 125%; EO 14228: fentanyl 20%
    ("CN", "9503.00.00.90", "2025-04-10", None, None, {}, {"ieepa-recip-cn": "125", "ieepa-fentanyl-cn": "20"}, "EO 14266; EO 14228"),
    # EO 14358 and the order of 4 Nov 2025: reciprocal 10%, fentanyl cut to 10%
    ("CN", "9503.00.00.90", "2025-11-10", None, None, {}, {"ieepa-recip-cn": "10", "ieepa-fentanyl-cn": "10"} | DE_MINIMIS, "EO 14358; order of 4 Nov 2025"),
    # EO 14323: Brazil 40% on top of the 10% baseline
    ("BR", "9503.00.00.90", "2025-08-06", None, None, {}, {"ieepa-brazil": "40", "ieepa-recip-baseline": "10"}, "EO 14323"),
    # EO 14326: India 25%; EO 14329: Russian-oil 25% from 27 Aug 2025
    ("IN", "9503.00.00.90", "2025-08-27", None, None, {}, {"ieepa-recip-in": "25", "ieepa-russian-oil-in": "25"}, "EO 14326; EO 14329"),
    # EO 14309: UK cars in quota at 7.5% (10% with MFN)
    ("GB", "8703.23.01.90", "2025-07-01", None, "2.5", {"in_quota": True}, {"s232-autos": "7.5"}, "EO 14309"),
    # EO 14289: the Canada IEEPA duty, not also steel 232, until Proclamation 10947 ...
    ("CA", "7208.10.15.00", "2025-05-01", None, None, {"usmca_qualifying": False}, {"ieepa-fentanyl-ca": "25"}, "EO 14289"),
    # ... from which metals 232 (50%) takes precedence over the Canada IEEPA duty
    ("CA", "7208.10.15.00", "2025-06-10", None, None, {"usmca_qualifying": False}, {"s232-steel": "50"}, "Proclamation 10947"),
    # EU notice of 24 Sep 2025: cars 15% all-in (15 - 2.5 = 12.5), retroactive to 1 Aug
    ("DE", "8703.23.01.90", "2025-08-15", "2025-09-30", "2.5", {}, {"s232-autos": "12.5"}, "EU notice of 24 Sep 2025"),
    # EU notice: auto parts 15% all-in; EO 14289: no aluminium derivative duty on them as well
    ("DE", "8708.10.30.50", "2025-09-01", None, "2.5", {"aluminium_content_share": "0.5"}, {"s232-auto-parts": "12.5"} | DE_MINIMIS, "EU notice; EO 14289"),
    # Copper proclamation of 30 Jul 2025: 50% on the copper content; the baseline on the
    # non-copper content (here none: 10% x 0 = 0)
    ("CL", "7408.11.60.00", "2025-08-01", None, None, {"copper_content_share": "1"}, {"s232-copper": "50", "ieepa-recip-baseline": "0"}, "Copper proclamation of 30 Jul 2025"),
    # Korea notice of 3 Dec 2025: the higher of MFN or 15%, 15 - 8 = 7
    ("KR", "9503.00.00.90", "2025-11-20", "2025-12-05", "8", {}, {"ieepa-recip-kr": "7"} | DE_MINIMIS, "Korea notice of 3 Dec 2025"),
    # EO 14345: Japan 15% all-in; MFN 26.4% above it leaves 0
    ("JP", "0201.30.50.15", "2025-08-20", "2025-09-05", "26.4", {}, {"ieepa-recip-jp": "0"}, "EO 14345"),
    # ch-39-to-15: Switzerland 15% all-in retroactive to 14 Nov 2025
    ("CH", "9503.00.00.90", "2025-11-20", "2025-12-15", "0", {}, {"ieepa-recip-ch": "15"} | DE_MINIMIS, "Swiss implementation notice"),
    # Proclamation 11012: Section 122 10% once IEEPA collection ended on 24 Feb 2026
    ("JP", "9503.00.00.90", "2026-03-01", None, "0", {}, {"s122-surcharge": "10"} | DE_MINIMIS, "Proclamation 11012"),
    # Proclamation 11012: USMCA-qualifying goods are outside the Section 122 surcharge
    ("CA", "9503.00.00.90", "2026-03-01", None, None, {"usmca_qualifying": True}, dict(DE_MINIMIS), "Proclamation 11012, USMCA"),
    # Proclamation 11002: chips for US data centers exempt; electronics outside the reciprocal
    ("TW", "8473.30.11.40", "2026-01-20", None, None, {"end_use": "us_data_center"}, dict(DE_MINIMIS), "Proclamation 11002; memorandum of 11 Apr 2025"),
]


def _id(case: Case | LayerCase) -> str:
    origin, hts, entered, known, *_ = case
    return f"{origin}-{hts}-{entered}" + (f"-k{known}" if known else "")


def test_the_table_has_at_least_sixty_cited_answers() -> None:
    assert len(CASES) >= 60
    assert all(len(case[7]) > 10 for case in CASES)
    assert len({_id(case) + str(case[5]) for case in CASES}) == len(CASES)
    assert len({_id(case) + str(case[5]) for case in LAYER_CASES}) == len(LAYER_CASES)


@pytest.mark.parametrize(
    "origin, hts, entered, known, mfn, facts, expected, citation", CASES,
    ids=[_id(c) for c in CASES])
def test_the_timeline_gives_the_cited_answer(
        loaded_once: TariffTimeline, origin: str, hts: str, entered: str, known: str | None,
        mfn: str | None, facts: dict[str, object], expected: object, citation: str) -> None:
    answer = loaded_once.rate_on(origin=origin, hts=hts, entered=entered, known=known, mfn=mfn,
                                 facts=facts)
    applied = [(layer.measure, layer.rate) for layer in answer.layers if layer.applied]
    assert answer.additional == Decimal(str(expected)), (citation, applied, answer.alternatives)


@pytest.mark.parametrize(
    "origin, hts, entered, known, mfn, facts, layers, citation", LAYER_CASES,
    ids=[_id(c) for c in LAYER_CASES])
def test_the_timeline_applies_the_cited_layers_at_their_rates(
        loaded_once: TariffTimeline, origin: str, hts: str, entered: str, known: str | None,
        mfn: str | None, facts: dict[str, object], layers: dict[str, str],
        citation: str) -> None:
    answer = loaded_once.rate_on(origin=origin, hts=hts, entered=entered, known=known, mfn=mfn,
                                 facts=facts)
    applied = {layer.measure: layer.rate for layer in answer.layers if layer.applied}
    expected = {measure: Decimal(rate) for measure, rate in layers.items()}
    assert applied == expected, citation
    assert answer.additional == sum(expected.values(), Decimal(0)), citation
