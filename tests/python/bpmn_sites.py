"""Sites for the workflow tests, written as Palisade source."""

from __future__ import annotations

from pathlib import Path

PLANT = """
site "Test Plant" { timezone "Europe/Amsterdam" }
use std.services

role maintenance_tech "Maintenance technician"
role control_engineer "Control engineer"
role safety_engineer "Safety engineer"
role plant_manager "Plant manager"

person "emp-1" { roles [maintenance_tech] }
person "emp-2" { roles [control_engineer] }
person "emp-3" { roles [safety_engineer, control_engineer] }
person "emp-4" { roles [plant_manager] }
person "emp-5" { roles [maintenance_tech, safety_engineer] }

zone operations { security_level 2; network 10.30.0.0/24
  asset eng_ws at 10.30.0.50 { kind engineering_workstation; capability 2 } }
zone control { security_level 2; network 10.40.0.0/24
  asset plc_a at 10.40.0.11 { kind plc; capability 2 }
  asset plc_b at 10.40.0.12 { kind plc; capability 2 } }

conduit maintenance: operations -> control {
  allow eng_ws -> plc_a : s7comm when workorder firmware_update
  allow eng_ws -> plc_b : s7comm when workorder firmware_update
  allow eng_ws -> plc_a : s7comm when workorder vendor_session
  allow eng_ws -> plc_a : s7comm when workorder break_glass
}

firewall fw { target nftables
  interface "eth0" faces operations
  interface "eth1" faces control }

workorder firmware_update "PLC firmware update" {
  scope [control]
  requested_by maintenance_tech
  approved_by control_engineer and safety_engineer
  separation_of_duties
  prerequisite backup_taken "Controller backup taken"
  prerequisite production_notified "Production notified"
  window Mon-Fri 06:00-18:00
  max_duration 4h
}

workorder vendor_session "Vendor session" {
  scope [plc_a]
  requested_by maintenance_tech
  approved_by 2 of [control_engineer, safety_engineer, plant_manager]
  separation_of_duties
  max_duration 2h
}

workorder break_glass "Break glass" {
  emergency
  scope [plc_a, plc_b]
  requested_by control_engineer
  approved_by safety_engineer
  separation_of_duties
  max_duration 1h
  review_after 24h
}
"""

# Every character that could end an XML attribute, comment, CDATA section or element, a
# Python string, or a JSON string, in the places a source string reaches an output: as written
# in Palisade source (escapes \\" and \\\\ only), and as the compiler reads it.
HOSTILE_SOURCE = r"""Evil\"/> <!-- --> ]]> </bpmn:process> ' & \\ ${x} {{y}} """ + "\u00e9\u2028 --"
HOSTILE_TITLE = """Evil"/> <!-- --> ]]> </bpmn:process> ' & \\ ${x} {{y}} """ + "\u00e9\u2028 --"

HOSTILE = r"""
site "Hostile \" --> <x/> & Co" { timezone "UTC" }
use std.services
role tech "Tech <b>\"boss\"</b> --"
role eng
zone a { security_level 1; network 10.1.0.0/24; asset h at 10.1.0.5 { capability 1 } }
zone b { security_level 1; network 10.2.0.0/24; asset p "PLC ]]> & <" at 10.2.0.5 { capability 1 } }
conduit c: a -> b { allow h -> p : s7comm when workorder w }
firewall fw { target nftables; interface "e0" faces a; interface "e1" faces b }
workorder w "TITLE" {
  description "line one --> <!-- & \\ \" end"
  scope [p]
  requested_by tech
  approved_by eng
  prerequisite check "Check \"this\" & <that> -->"
  max_duration 30m
}
""".replace("TITLE", HOSTILE_SOURCE)


def write(tmp: Path, name: str, text: str) -> Path:
    d = tmp / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "site.pal").write_text(text)
    return d
