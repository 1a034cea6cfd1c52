// Reads an iCalendar file on stdin with ical.js and node-ical; prints each event's start as a UTC ISO instant.
"use strict";
const fs = require("fs");
const ICAL = require("ical.js");
const nodeIcal = require("node-ical");

const text = fs.readFileSync(0, "utf8");
const calendar = new ICAL.Component(ICAL.parse(text));
for (const zone of calendar.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(zone);
}
const icaljs = calendar
  .getAllSubcomponents("vevent")
  .map((event) => new ICAL.Event(event).startDate.toJSDate().toISOString());
const nodeical = Object.values(nodeIcal.sync.parseICS(text))
  .filter((item) => item.type === "VEVENT")
  .map((event) => event.start.toISOString());
process.stdout.write(JSON.stringify({ icaljs, nodeical }));
