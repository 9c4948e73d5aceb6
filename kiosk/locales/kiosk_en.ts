<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>kiosk</name>
    <message>
        <source>alternative.number_on_screen</source>
        <translation>your number will show on screen</translation>
    </message>
    <message>
        <source>alternative.staff</source>
        <translation>staff can help</translation>
    </message>
    <message>
        <source>answer.already_checked_in</source>
        <translation>You are already checked in; please wait to be called</translation>
    </message>
    <message>
        <source>answer.no_record</source>
        <translation>We found no record for you</translation>
    </message>
    <message>
        <source>answer.not_today</source>
        <translation>Your appointment is on another day</translation>
    </message>
    <message>
        <source>answer.unknown_code</source>
        <translation>This code is not known; please go to the counter</translation>
    </message>
    <message>
        <source>attract.subtitle_touch</source>
        <translation>Touch the screen to start</translation>
    </message>
    <message>
        <source>attract.offline_now</source>
        <translation>The network is down: some services are not available now</translation>
    </message>
    <message>
        <source>attract.start</source>
        <translation>Start</translation>
    </message>
    <message>
        <source>attract.subtitle</source>
        <translation>Touch the screen to start, or place your ID card</translation>
    </message>
    <message>
        <source>attract.title</source>
        <translation>Welcome to the self-service terminal</translation>
    </message>
    <message>
        <source>card.expired</source>
        <translation>This card has expired. Please go to a staffed window</translation>
    </message>
    <message>
        <source>card.invalid</source>
        <translation>This card cannot be recognised. Please go to a staffed window</translation>
    </message>
    <message>
        <source>card.read_failed</source>
        <translation>The card could not be read. Lay it flat and wait a moment</translation>
    </message>
    <message>
        <source>catalogue.greeting</source>
        <translation>Hello, {name}</translation>
    </message>
    <message>
        <source>catalogue.more</source>
        <translation>More services ▶ (page {page} of {pages})</translation>
    </message>
    <message>
        <source>catalogue.previous</source>
        <translation>◀ Back</translation>
    </message>
    <message>
        <source>catalogue.title</source>
        <translation>Please choose a service</translation>
    </message>
    <message>
        <source>catalogue.unavailable</source>
        <translation>Not available now</translation>
    </message>
    <message>
        <source>catalogue.welcome</source>
        <translation>Welcome</translation>
    </message>
    <message>
        <source>choose.title.certificate</source>
        <translation>Which certificate do you need?</translation>
    </message>
    <message>
        <source>choose.title.queue_ticket</source>
        <translation>Which service do you need?</translation>
    </message>
    <message>
        <source>choose.more</source>
        <translation>More choices ▶ (page {page} of {pages})</translation>
    </message>
    <message>
        <source>choose.title</source>
        <translation>Please choose one</translation>
    </message>
    <message>
        <source>common.back</source>
        <translation>Back</translation>
    </message>
    <message>
        <source>common.exit</source>
        <translation>Finish</translation>
    </message>
    <message>
        <source>common.more_time</source>
        <translation>I need more time</translation>
    </message>
    <message>
        <source>confirm.certificate.body</source>
        <translation>Print: {option}</translation>
    </message>
    <message>
        <source>confirm.certificate.ok</source>
        <translation>Print it</translation>
    </message>
    <message>
        <source>confirm.checkin.body</source>
        <translation>Check in</translation>
    </message>
    <message>
        <source>confirm.checkin.ok</source>
        <translation>Check in</translation>
    </message>
    <message>
        <source>confirm.feedback.body</source>
        <translation>Send your feedback</translation>
    </message>
    <message>
        <source>confirm.feedback.ok</source>
        <translation>Send</translation>
    </message>
    <message>
        <source>confirm.progress.body</source>
        <translation>Look up the progress</translation>
    </message>
    <message>
        <source>confirm.progress.ok</source>
        <translation>Look it up</translation>
    </message>
    <message>
        <source>confirm.query.body</source>
        <translation>{service}: your own record will be looked up</translation>
    </message>
    <message>
        <source>confirm.query.ok</source>
        <translation>Look it up</translation>
    </message>
    <message>
        <source>confirm.ticket.body</source>
        <translation>A ticket for the {option} counter</translation>
    </message>
    <message>
        <source>confirm.ticket.ok</source>
        <translation>Get my ticket</translation>
    </message>
    <message>
        <source>confirm.feedback.text</source>
        <translation>Your words: {text}</translation>
    </message>
    <message>
        <source>confirm.feedback.phone</source>
        <translation>Call-back number: {phone}</translation>
    </message>
    <message>
        <source>confirm.title</source>
        <translation>Please confirm</translation>
    </message>
    <message>
        <source>contrast.toggle</source>
        <translation>High contrast</translation>
    </message>
    <message>
        <source>device.camera_paused</source>
        <translation>The camera is restarting, please wait; staff can also help</translation>
    </message>
    <message>
        <source>device.camera_unavailable</source>
        <translation>The camera is not available right now</translation>
    </message>
    <message>
        <source>device.printer_cover_open</source>
        <translation>The printer cover is open</translation>
    </message>
    <message>
        <source>device.printer_paper_out</source>
        <translation>The printer is out of paper</translation>
    </message>
    <message>
        <source>device.printer_unavailable</source>
        <translation>The printer is not available right now</translation>
    </message>
    <message>
        <source>device.reader_paused</source>
        <translation>The card reader will be back in a moment. Staff can also help you.</translation>
    </message>
    <message>
        <source>device.reader_unavailable</source>
        <translation>The card reader is not available right now</translation>
    </message>
    <message>
        <source>device.smartcard_unavailable</source>
        <translation>The smart card reader is not available right now</translation>
    </message>
    <message>
        <source>device.unavailable</source>
        <translation>This device is not available right now</translation>
    </message>
    <message>
        <source>diag.bundle.about</source>
        <translation>A zip for support: versions, configuration without secrets, devices, queue, recent logs and self-test results. No personal data.</translation>
    </message>
    <message>
        <source>diag.bundle.failed</source>
        <translation>Could not write the bundle: {error}</translation>
    </message>
    <message>
        <source>diag.bundle.write</source>
        <translation>Write diagnostics bundle</translation>
    </message>
    <message>
        <source>diag.bundle.written</source>
        <translation>Written to {path}</translation>
    </message>
    <message>
        <source>diag.busy</source>
        <translation>Working…</translation>
    </message>
    <message>
        <source>diag.device.counters</source>
        <translation>Since {since}: operations {ops}, faults {faults}, reconnects {reconnects}</translation>
    </message>
    <message>
        <source>diag.device.driver</source>
        <translation>Driver {driver}</translation>
    </message>
    <message>
        <source>diag.device.last_fault</source>
        <translation>Last fault: {words} ({code}) at {at}</translation>
    </message>
    <message>
        <source>diag.device.no_fault</source>
        <translation>No fault since start</translation>
    </message>
    <message>
        <source>diag.device.where</source>
        <translation>at {where}</translation>
    </message>
    <message>
        <source>diag.exit</source>
        <translation>Leave</translation>
    </message>
    <message>
        <source>diag.fault.absent</source>
        <translation>not connected</translation>
    </message>
    <message>
        <source>diag.fault.connecting</source>
        <translation>still connecting</translation>
    </message>
    <message>
        <source>diag.fault.cover_open</source>
        <translation>cover open</translation>
    </message>
    <message>
        <source>diag.fault.io_error</source>
        <translation>connection lost</translation>
    </message>
    <message>
        <source>diag.fault.no_frames</source>
        <translation>no picture</translation>
    </message>
    <message>
        <source>diag.fault.open_failed</source>
        <translation>cannot open its port (unplugged?)</translation>
    </message>
    <message>
        <source>diag.fault.paper_out</source>
        <translation>paper out</translation>
    </message>
    <message>
        <source>diag.fault.read_failed</source>
        <translation>read failed</translation>
    </message>
    <message>
        <source>diag.fault.reader_missing</source>
        <translation>no reader connected</translation>
    </message>
    <message>
        <source>diag.fault.service_not_running</source>
        <translation>PC/SC service (pcscd) not running</translation>
    </message>
    <message>
        <source>diag.fault.stalled</source>
        <translation>picture frozen</translation>
    </message>
    <message>
        <source>diag.fault.timeout</source>
        <translation>not answering</translation>
    </message>
    <message>
        <source>diag.fault.unreachable</source>
        <translation>not reachable</translation>
    </message>
    <message>
        <source>diag.link.offline</source>
        <translation>offline</translation>
    </message>
    <message>
        <source>diag.link.online</source>
        <translation>online</translation>
    </message>
    <message>
        <source>diag.link.refused</source>
        <translation>refused (check the token)</translation>
    </message>
    <message>
        <source>diag.link.unconfigured</source>
        <translation>not configured</translation>
    </message>
    <message>
        <source>diag.link.unknown</source>
        <translation>not tried yet</translation>
    </message>
    <message>
        <source>diag.logs.all</source>
        <translation>All</translation>
    </message>
    <message>
        <source>diag.logs.empty</source>
        <translation>No log entries.</translation>
    </message>
    <message>
        <source>diag.nav.bundle</source>
        <translation>Bundle</translation>
    </message>
    <message>
        <source>diag.nav.devices</source>
        <translation>Devices</translation>
    </message>
    <message>
        <source>diag.nav.logs</source>
        <translation>Logs</translation>
    </message>
    <message>
        <source>diag.nav.queue</source>
        <translation>Queue</translation>
    </message>
    <message>
        <source>diag.nav.selftests</source>
        <translation>Self-tests</translation>
    </message>
    <message>
        <source>diag.noun.camera</source>
        <translation>camera</translation>
    </message>
    <message>
        <source>diag.noun.id_card_reader</source>
        <translation>card reader</translation>
    </message>
    <message>
        <source>diag.noun.receipt_printer</source>
        <translation>printer</translation>
    </message>
    <message>
        <source>diag.noun.smart_card_reader</source>
        <translation>smart card reader</translation>
    </message>
    <message>
        <source>diag.pin.cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>diag.pin.checking</source>
        <translation>Checking…</translation>
    </message>
    <message>
        <source>diag.pin.closed</source>
        <translation>Diagnostics mode is not set up on this terminal: no technician PIN is configured.</translation>
    </message>
    <message>
        <source>diag.pin.delete</source>
        <translation>Delete</translation>
    </message>
    <message>
        <source>diag.pin.enter</source>
        <translation>Enter</translation>
    </message>
    <message>
        <source>diag.pin.locked</source>
        <translation>Too many wrong PINs. Try again in {time}.</translation>
    </message>
    <message>
        <source>diag.pin.test_pin</source>
        <translation>Simulator: the test PIN is 123456.</translation>
    </message>
    <message>
        <source>diag.pin.title</source>
        <translation>Technician PIN</translation>
    </message>
    <message>
        <source>diag.pin.wrong</source>
        <translation>Wrong PIN. {n} tries left before the entry locks.</translation>
    </message>
    <message>
        <source>diag.queue.closed</source>
        <translation>The outbox is not open.</translation>
    </message>
    <message>
        <source>diag.queue.counts</source>
        <translation>Waiting {pending} · sent {sent} · delivered {acknowledged} · rejected {dead}</translation>
    </message>
    <message>
        <source>diag.queue.dead_title</source>
        <translation>Dead letters (rejected by the platform)</translation>
    </message>
    <message>
        <source>diag.queue.last_sync</source>
        <translation>Last sync: {result}</translation>
    </message>
    <message>
        <source>diag.queue.link</source>
        <translation>Platform: {link}</translation>
    </message>
    <message>
        <source>diag.queue.never</source>
        <translation>never</translation>
    </message>
    <message>
        <source>diag.queue.no_dead</source>
        <translation>No dead letters.</translation>
    </message>
    <message>
        <source>diag.queue.awaiting_key</source>
        <translation>{count} of them hold personal fields and wait for the platform's personal-data key (never sent in the clear)</translation>
    </message>
    <message>
        <source>diag.queue.none_waiting</source>
        <translation>Nothing waiting</translation>
    </message>
    <message>
        <source>diag.queue.oldest</source>
        <translation>Oldest waiting for {age}</translation>
    </message>
    <message>
        <source>diag.queue.sync_now</source>
        <translation>Sync now</translation>
    </message>
    <message>
        <source>diag.refresh</source>
        <translation>Check again</translation>
    </message>
    <message>
        <source>diag.selftest.camera</source>
        <translation>Camera</translation>
    </message>
    <message>
        <source>diag.selftest.card</source>
        <translation>Read a card</translation>
    </message>
    <message>
        <source>diag.selftest.disk</source>
        <translation>Disk space</translation>
    </message>
    <message>
        <source>diag.selftest.network</source>
        <translation>Network and platform</translation>
    </message>
    <message>
        <source>diag.selftest.not_run</source>
        <translation>Not run yet</translation>
    </message>
    <message>
        <source>diag.selftest.outbox</source>
        <translation>Outbox</translation>
    </message>
    <message>
        <source>diag.selftest.print</source>
        <translation>Print a test page</translation>
    </message>
    <message>
        <source>diag.selftest.running</source>
        <translation>Running…</translation>
    </message>
    <message>
        <source>diag.state.absent</source>
        <translation>not connected</translation>
    </message>
    <message>
        <source>diag.state.busy</source>
        <translation>busy</translation>
    </message>
    <message>
        <source>diag.state.connecting</source>
        <translation>connecting</translation>
    </message>
    <message>
        <source>diag.state.degraded</source>
        <translation>degraded</translation>
    </message>
    <message>
        <source>diag.state.fault</source>
        <translation>fault</translation>
    </message>
    <message>
        <source>diag.state.ready</source>
        <translation>ready</translation>
    </message>
    <message>
        <source>diag.summary.ok</source>
        <translation>All devices are working.</translation>
    </message>
    <message>
        <source>diag.test_page.ok</source>
        <translation>If you can read this page, the printer works.</translation>
    </message>
    <message>
        <source>diag.test_page.scan</source>
        <translation>Scan the QR code for this terminal's health (works offline)</translation>
    </message>
    <message>
        <source>diag.test_page.terminal</source>
        <translation>Terminal</translation>
    </message>
    <message>
        <source>diag.test_page.time</source>
        <translation>Time</translation>
    </message>
    <message>
        <source>diag.test_page.title</source>
        <translation>Printer self-test</translation>
    </message>
    <message>
        <source>diag.time.minutes</source>
        <translation>{m} min {s} s</translation>
    </message>
    <message>
        <source>diag.time.seconds</source>
        <translation>{s} s</translation>
    </message>
    <message>
        <source>diag.title</source>
        <translation>Diagnostics</translation>
    </message>
    <message>
        <source>diag.verdict.fail</source>
        <translation>FAIL</translation>
    </message>
    <message>
        <source>diag.verdict.pass</source>
        <translation>PASS</translation>
    </message>
    <message>
        <source>diag.verdict.skip</source>
        <translation>SKIPPED</translation>
    </message>
    <message>
        <source>elder.no</source>
        <translation>No, thanks</translation>
    </message>
    <message>
        <source>elder.suggest</source>
        <translation>Try elder mode: larger text, larger buttons, more time</translation>
    </message>
    <message>
        <source>elder.toggle</source>
        <translation>Elder mode</translation>
    </message>
    <message>
        <source>elder.yes</source>
        <translation>Elder mode</translation>
    </message>
    <message>
        <source>feedback.hint</source>
        <translation>Tap a phrase, or type below</translation>
    </message>
    <message>
        <source>feedback.phrase.1</source>
        <translation>The staff were friendly</translation>
    </message>
    <message>
        <source>feedback.phrase.2</source>
        <translation>The wait was too long</translation>
    </message>
    <message>
        <source>feedback.phrase.3</source>
        <translation>It was quick</translation>
    </message>
    <message>
        <source>feedback.phrase.4</source>
        <translation>The text on screen is too small</translation>
    </message>
    <message>
        <source>feedback.phrase.5</source>
        <translation>It was hard to use</translation>
    </message>
    <message>
        <source>feedback.phrase.6</source>
        <translation>Please open more staffed windows</translation>
    </message>
    <message>
        <source>feedback.phrase.7</source>
        <translation>The staff were patient</translation>
    </message>
    <message>
        <source>feedback.phrase.8</source>
        <translation>Thank you!</translation>
    </message>
    <message>
        <source>feedback.title</source>
        <translation>Your feedback</translation>
    </message>
    <message>
        <source>goodbye.cancelled</source>
        <translation>Your visit has ended and your details have been cleared</translation>
    </message>
    <message>
        <source>goodbye.finished</source>
        <translation>All done. Your details have been cleared</translation>
    </message>
    <message>
        <source>goodbye.timeout</source>
        <translation>This visit ended after a long pause. Your details have been cleared</translation>
    </message>
    <message>
        <source>goodbye.remind</source>
        <translation>Please take your ID card and your things</translation>
    </message>
    <message>
        <source>card.take_away</source>
        <translation>Please take your ID card from the reader</translation>
    </message>
    <message>
        <source>goodbye.title</source>
        <translation>Thank you, goodbye</translation>
    </message>
    <message>
        <source>identify.hint</source>
        <translation>Lay your ID card flat on the reader below the screen</translation>
    </message>
    <message>
        <source>identify.reading</source>
        <translation>Reading your card, please keep it still…</translation>
    </message>
    <message>
        <source>identify.title</source>
        <translation>Please place your ID card</translation>
    </message>
    <message>
        <source>keyboard.backspace</source>
        <translation>Delete</translation>
    </message>
    <message>
        <source>keyboard.clear</source>
        <translation>Clear</translation>
    </message>
    <message>
        <source>keyboard.count</source>
        <translation>{n}/{limit}</translation>
    </message>
    <message>
        <source>keyboard.done</source>
        <translation>Done</translation>
    </message>
    <message>
        <source>keyboard.mode.letters</source>
        <translation>ABC</translation>
    </message>
    <message>
        <source>keyboard.mode.phrases</source>
        <translation>Phrases</translation>
    </message>
    <message>
        <source>keyboard.mode.pinyin</source>
        <translation>Pinyin</translation>
    </message>
    <message>
        <source>keyboard.mode.symbols</source>
        <translation>123</translation>
    </message>
    <message>
        <source>keyboard.no_match</source>
        <translation>Word not known: tap the letters to keep them</translation>
    </message>
    <message>
        <source>keyboard.pinyin_hint</source>
        <translation>Type the pinyin, then tap the word</translation>
    </message>
    <message>
        <source>keyboard.placeholder</source>
        <translation>Tap a phrase below, or type your comments</translation>
    </message>
    <message>
        <source>keyboard.shift</source>
        <translation>Shift</translation>
    </message>
    <message>
        <source>keyboard.space</source>
        <translation>Space</translation>
    </message>
    <message>
        <source>keypad.clear</source>
        <translation>Clear</translation>
    </message>
    <message>
        <source>keypad.code.hint</source>
        <translation>The number on your receipt</translation>
    </message>
    <message>
        <source>keypad.code.title</source>
        <translation>Enter the number</translation>
    </message>
    <message>
        <source>keypad.delete</source>
        <translation>Delete</translation>
    </message>
    <message>
        <source>keypad.invalid</source>
        <translation>Please check the number</translation>
    </message>
    <message>
        <source>keypad.ok</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>keypad.phone.hint</source>
        <translation>So we can reply; you can skip this</translation>
    </message>
    <message>
        <source>keypad.phone.title</source>
        <translation>Your mobile number</translation>
    </message>
    <message>
        <source>keypad.skip</source>
        <translation>Skip</translation>
    </message>
    <message>
        <source>header.clock</source>
        <translation>{weekday} {day} {month_name}  {time}</translation>
    </message>
    <message>
        <source>header.weekdays</source>
        <translation>Mon,Tue,Wed,Thu,Fri,Sat,Sun</translation>
    </message>
    <message>
        <source>header.months</source>
        <translation>Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec</translation>
    </message>
    <message>
        <source>language.switch</source>
        <translation>中文</translation>
    </message>
    <message>
        <source>option.general</source>
        <translation>General services</translation>
    </message>
    <message>
        <source>option.housing_fund</source>
        <translation>Housing fund</translation>
    </message>
    <message>
        <source>option.medical_insurance</source>
        <translation>Medical insurance</translation>
    </message>
    <message>
        <source>option.social_security</source>
        <translation>Social security</translation>
    </message>
    <message>
        <source>problem.back_to_start</source>
        <translation>Back to start</translation>
    </message>
    <message>
        <source>problem.needs_network</source>
        <translation>This service needs the network, which is down. Please go to the service desk; staff will help you.</translation>
    </message>
    <message>
        <source>problem.processing_timeout</source>
        <translation>This took too long. Please go to the service desk; staff will check it for you.</translation>
    </message>
    <message>
        <source>problem.record_failed</source>
        <translation>Nothing was done and nothing was recorded. Please go to the service desk; staff will help you.</translation>
    </message>
    <message>
        <source>problem.refused</source>
        <translation>This did not work. Please go to the service desk; staff will help you.</translation>
    </message>
    <message>
        <source>problem.title</source>
        <translation>Sorry, this cannot be done right now</translation>
    </message>
    <message>
        <source>processing.title</source>
        <translation>Working on it, one moment…</translation>
    </message>
    <message>
        <source>rating.1</source>
        <translation>Very
dissatisfied</translation>
    </message>
    <message>
        <source>rating.2</source>
        <translation>Dissatisfied</translation>
    </message>
    <message>
        <source>rating.3</source>
        <translation>Fairly
satisfied</translation>
    </message>
    <message>
        <source>rating.4</source>
        <translation>Satisfied</translation>
    </message>
    <message>
        <source>rating.5</source>
        <translation>Very
satisfied</translation>
    </message>
    <message>
        <source>rating.reason.device</source>
        <translation>A device did not work</translation>
    </message>
    <message>
        <source>rating.reason.hard</source>
        <translation>Hard to use</translation>
    </message>
    <message>
        <source>rating.reason.result</source>
        <translation>Not done</translation>
    </message>
    <message>
        <source>rating.reason.wait</source>
        <translation>Waited too long</translation>
    </message>
    <message>
        <source>rating.reason.quick</source>
        <translation>Quick</translation>
    </message>
    <message>
        <source>rating.reason.easy</source>
        <translation>Easy to use</translation>
    </message>
    <message>
        <source>rating.reason.clear</source>
        <translation>Clear steps</translation>
    </message>
    <message>
        <source>rating.reason.done</source>
        <translation>Done in one go</translation>
    </message>
    <message>
        <source>rating.complaint_title</source>
        <translation>What went wrong?</translation>
    </message>
    <message>
        <source>rating.sorry</source>
        <translation>We are sorry. Pick what went wrong, any number; we will act on it.</translation>
    </message>
    <message>
        <source>rating.thanks</source>
        <translation>Thank you for your rating</translation>
    </message>
    <message>
        <source>rating.better_title</source>
        <translation>What could be better? Pick any, or none.</translation>
    </message>
    <message>
        <source>rating.praise_title</source>
        <translation>What went well? Pick any, or none.</translation>
    </message>
    <message>
        <source>rating.submit</source>
        <translation>Submit</translation>
    </message>
    <message>
        <source>rating.submit_in</source>
        <translation>Goes in by itself in {seconds} s</translation>
    </message>
    <message>
        <source>speak.rating_praise</source>
        <translation>Thank you. You can pick what went well, then tap Submit.</translation>
    </message>
    <message>
        <source>speak.rating_complaint</source>
        <translation>We are sorry. Please pick what went wrong, then tap Submit; we will act on it.</translation>
    </message>
    <message>
        <source>rating.skip</source>
        <translation>Skip</translation>
    </message>
    <message>
        <source>rating.title</source>
        <translation>How satisfied are you with this service?</translation>
    </message>
    <message>
        <source>receipt.note</source>
        <translation>Please listen for your number; if you miss it, take a new ticket</translation>
    </message>
    <message>
        <source>receipt.reference</source>
        <translation>Reference</translation>
    </message>
    <message>
        <source>receipt.scan</source>
        <translation>Scan to see the queue</translation>
    </message>
    <message>
        <source>receipt.slip_how</source>
        <translation>The answer comes by text message within one working day; or ask at the counter with this slip.</translation>
    </message>
    <message>
        <source>receipt.slip_title</source>
        <translation>Request slip</translation>
    </message>
    <message>
        <source>receipt.terminal</source>
        <translation>Terminal</translation>
    </message>
    <message>
        <source>receipt.ticket</source>
        <translation>Your number</translation>
    </message>
    <message>
        <source>receipt.holder</source>
        <translation>Holder</translation>
    </message>
    <message>
        <source>receipt.time_issued</source>
        <translation>Issued</translation>
    </message>
    <message>
        <source>receipt.time_printed</source>
        <translation>Printed</translation>
    </message>
    <message>
        <source>receipt.time_requested</source>
        <translation>Requested</translation>
    </message>
    <message>
        <source>receipt.time</source>
        <translation>Ticket drawn</translation>
    </message>
    <message>
        <source>receipt.title</source>
        <translation>Queue ticket</translation>
    </message>
    <message>
        <source>receipt.verify</source>
        <translation>Scan to check this certificate</translation>
    </message>
    <message>
        <source>receipt.window</source>
        <translation>Service</translation>
    </message>
    <message>
        <source>result.answer.body</source>
        <translation></translation>
    </message>
    <message>
        <source>result.answer.title</source>
        <translation>Your result</translation>
    </message>
    <message>
        <source>result.certificate.body</source>
        <translation></translation>
    </message>
    <message>
        <source>result.certificate.title</source>
        <translation>Your certificate</translation>
    </message>
    <message>
        <source>result.staff.ok</source>
        <translation>OK, I will wait here</translation>
    </message>
    <message>
        <source>result.continue</source>
        <translation>Next</translation>
    </message>
    <message>
        <source>result.feedback.body</source>
        <translation>We read every message</translation>
    </message>
    <message>
        <source>result.feedback.title</source>
        <translation>Thank you for your feedback</translation>
    </message>
    <message>
        <source>result.no_thanks</source>
        <translation>No, thanks</translation>
    </message>
    <message>
        <source>result.not_found.body</source>
        <translation>We found no record; please ask at the counter</translation>
    </message>
    <message>
        <source>result.not_found.title</source>
        <translation>Nothing found</translation>
    </message>
    <message>
        <source>result.offline_offer.body</source>
        <translation>We cannot look this up now. We can print a request slip: it is sent as soon as the network is back, the answer comes by text message within one working day, or ask at the counter with the slip.</translation>
    </message>
    <message>
        <source>result.offline_offer.title</source>
        <translation>The network is down</translation>
    </message>
    <message>
        <source>result.photograph</source>
        <translation>Photograph this code with your phone and show it at the counter</translation>
    </message>
    <message>
        <source>result.print_answer</source>
        <translation>Print</translation>
    </message>
    <message>
        <source>result.print_failed</source>
        <translation>The receipt could not be printed. Please remember your number</translation>
    </message>
    <message>
        <source>result.printed</source>
        <translation>Please take your receipt below</translation>
    </message>
    <message>
        <source>result.printing</source>
        <translation>Printing your receipt…</translation>
    </message>
    <message>
        <source>result.ahead</source>
        <translation>{count} people are waiting ahead of you</translation>
    </message>
    <message>
        <source>result.ahead_one</source>
        <translation>1 person is waiting ahead of you</translation>
    </message>
    <message>
        <source>result.ahead_none</source>
        <translation>Nobody is waiting ahead of you: watch for your number</translation>
    </message>
    <message>
        <source>result.recorded</source>
        <translation>Taken at {time}</translation>
    </message>
    <message>
        <source>result.refused.body</source>
        <translation>This cannot be done here just now; please go to the counter</translation>
    </message>
    <message>
        <source>result.refused.title</source>
        <translation>Not possible now</translation>
    </message>
    <message>
        <source>result.request_slip</source>
        <translation>Print a request slip</translation>
    </message>
    <message>
        <source>result.slip.body</source>
        <translation>The answer comes by text message within one working day</translation>
    </message>
    <message>
        <source>result.slip.title</source>
        <translation>Request recorded</translation>
    </message>
    <message>
        <source>result.slip_label</source>
        <translation>Request number</translation>
    </message>
    <message>
        <source>result.staff.body</source>
        <translation>Please wait by the terminal; someone will come to you</translation>
    </message>
    <message>
        <source>result.staff.title</source>
        <translation>Staff are on their way</translation>
    </message>
    <message>
        <source>result.ticket.body</source>
        <translation></translation>
    </message>
    <message>
        <source>result.ticket.title</source>
        <translation>Your ticket</translation>
    </message>
    <message>
        <source>result.ticket_label</source>
        <translation>Your number</translation>
    </message>
    <message>
        <source>scan.application_progress.title</source>
        <translation>Show the QR code on your application receipt</translation>
    </message>
    <message>
        <source>scan.appointment_checkin.title</source>
        <translation>Show your appointment QR code</translation>
    </message>
    <message>
        <source>scan.hint</source>
        <translation>Hold the QR code in front of the camera, as in the picture; it goes on by itself once read</translation>
    </message>
    <message>
        <source>scan.title</source>
        <translation>Show your QR code</translation>
    </message>
    <message>
        <source>service.needs_network</source>
        <translation>The network is down</translation>
    </message>
    <message>
        <source>speak.rating</source>
        <translation>Tap a face to rate this service, or skip.</translation>
    </message>
    <message>
        <source>speak.tap</source>
        <translation>Tap “{button}”.</translation>
    </message>
    <message>
        <source>staff.call</source>
        <translation>Call staff</translation>
    </message>
    <message>
        <source>staff.called</source>
        <translation>Staff called, please wait</translation>
    </message>
    <message>
        <source>step.of</source>
        <translation>Step {step} of {steps}</translation>
    </message>
    <message>
        <source>sync.offline</source>
        <translation>Offline</translation>
    </message>
    <message>
        <source>sync.online</source>
        <translation>Online</translation>
    </message>
    <message>
        <source>sync.waiting</source>
        <translation>{n} waiting to send</translation>
    </message>
    <message>
        <source>timeout.warning</source>
        <translation>You have not touched the screen for a while. This visit ends in {seconds} seconds.</translation>
    </message>
    <message>
        <source>voice.off</source>
        <translation>Voice: off</translation>
    </message>
    <message>
        <source>voice.on</source>
        <translation>Voice: on</translation>
    </message>
    <message>
        <source>voice.repeat</source>
        <translation>Say it again</translation>
    </message>
    <message>
        <source>voice.volume</source>
        <translation>Volume</translation>
    </message>
    <message>
        <source>voice.volume_level</source>
        <translation>Volume {level}</translation>
    </message>
    <message>
        <source>voice.unavailable</source>
        <translation>Voice unavailable</translation>
    </message>
    <message>
        <source>diag.result.device_problem</source>
        <translation>{device}: {fault}</translation>
    </message>
    <message>
        <source>diag.result.no_card_reader</source>
        <translation>no ID card reader configured</translation>
    </message>
    <message>
        <source>diag.result.no_card</source>
        <translation>card reader: no card read in {seconds:.0f} s (lay an ID card on the reader, or lift it and lay it again)</translation>
    </message>
    <message>
        <source>diag.result.card_ok</source>
        <translation>card read ok, ID number valid</translation>
    </message>
    <message>
        <source>diag.result.card_invalid</source>
        <translation>card read, but its ID number is not valid</translation>
    </message>
    <message>
        <source>diag.result.no_printer</source>
        <translation>no receipt printer configured</translation>
    </message>
    <message>
        <source>diag.result.print_ok</source>
        <translation>test page printed (scan its QR code for this terminal's health)</translation>
    </message>
    <message>
        <source>diag.result.no_camera</source>
        <translation>no camera configured</translation>
    </message>
    <message>
        <source>diag.result.camera_ok</source>
        <translation>camera ok: {fps:.0f} fps, {width}x{height}</translation>
    </message>
    <message>
        <source>diag.result.faces_one</source>
        <translation>1 face</translation>
    </message>
    <message>
        <source>diag.result.faces_many</source>
        <translation>{n} faces</translation>
    </message>
    <message>
        <source>diag.result.qr_none</source>
        <translation>no QR code</translation>
    </message>
    <message>
        <source>diag.result.qr_one</source>
        <translation>1 QR code</translation>
    </message>
    <message>
        <source>diag.result.qr_many</source>
        <translation>{n} QR codes</translation>
    </message>
    <message>
        <source>diag.result.no_platform</source>
        <translation>no platform configured ([central] url)</translation>
    </message>
    <message>
        <source>diag.result.embedded_down</source>
        <translation>platform: the embedded platform is not running (see the log)</translation>
    </message>
    <message>
        <source>diag.result.bad_url</source>
        <translation>platform: '{url}' is not an http(s) URL</translation>
    </message>
    <message>
        <source>diag.result.dns_failed</source>
        <translation>network: cannot resolve {host} ({reason})</translation>
    </message>
    <message>
        <source>diag.result.refused</source>
        <translation>network: {host}:{port} refused the connection</translation>
    </message>
    <message>
        <source>diag.result.connect_failed</source>
        <translation>network: {host}:{port} {reason}</translation>
    </message>
    <message>
        <source>diag.result.tls_failed</source>
        <translation>network: TLS handshake with {host} failed ({reason})</translation>
    </message>
    <message>
        <source>diag.result.healthz_silent</source>
        <translation>platform: /healthz did not answer ({reason})</translation>
    </message>
    <message>
        <source>diag.result.healthz_status</source>
        <translation>platform: /healthz answered HTTP {status}</translation>
    </message>
    <message>
        <source>diag.result.heartbeat_failed</source>
        <translation>platform: heartbeat failed ({reason})</translation>
    </message>
    <message>
        <source>diag.result.token_refused</source>
        <translation>platform: token refused (HTTP {status})</translation>
    </message>
    <message>
        <source>diag.result.heartbeat_status</source>
        <translation>platform: heartbeat answered HTTP {status}</translation>
    </message>
    <message>
        <source>diag.result.clock_ahead</source>
        <translation>clock: {seconds:.0f} s ahead of the platform</translation>
    </message>
    <message>
        <source>diag.result.clock_behind</source>
        <translation>clock: {seconds:.0f} s behind the platform</translation>
    </message>
    <message>
        <source>diag.result.platform_ok</source>
        <translation>platform reachable ({ms:.0f} ms)</translation>
    </message>
    <message>
        <source>diag.result.embedded_ok</source>
        <translation>embedded platform reachable ({ms:.0f} ms)</translation>
    </message>
    <message>
        <source>diag.result.clock_ok</source>
        <translation>clock within {seconds:.1f} s</translation>
    </message>
    <message>
        <source>diag.result.token_ok</source>
        <translation>token accepted</translation>
    </message>
    <message>
        <source>diag.result.disk_unreadable</source>
        <translation>disk: cannot read free space ({reason})</translation>
    </message>
    <message>
        <source>diag.result.disk_readonly</source>
        <translation>disk: the data directory is not writable ({reason})</translation>
    </message>
    <message>
        <source>diag.result.disk_full</source>
        <translation>disk: nearly full, {free} free of {total} ({percent:.0f}%)</translation>
    </message>
    <message>
        <source>diag.result.disk_ok</source>
        <translation>disk ok: {free} free of {total} ({percent:.0f}%)</translation>
    </message>
    <message>
        <source>diag.result.no_outbox</source>
        <translation>no outbox database yet (nothing recorded on this terminal)</translation>
    </message>
    <message>
        <source>diag.result.outbox_slow</source>
        <translation>outbox: integrity check failed (did not finish in time)</translation>
    </message>
    <message>
        <source>diag.result.outbox_unchecked</source>
        <translation>outbox: integrity check failed ({reason})</translation>
    </message>
    <message>
        <source>diag.result.outbox_damaged</source>
        <translation>outbox: database damaged ({verdict})</translation>
    </message>
    <message>
        <source>diag.result.outbox_intact</source>
        <translation>outbox database intact</translation>
    </message>
    <message>
        <source>diag.result.outbox_ok</source>
        <translation>outbox ok: database intact</translation>
    </message>
    <message>
        <source>diag.result.outbox_full</source>
        <translation>outbox: {percent:.0f}% full</translation>
    </message>
    <message>
        <source>diag.result.waiting</source>
        <translation>{n} waiting</translation>
    </message>
    <message>
        <source>diag.result.waiting_oldest</source>
        <translation>{n} waiting (oldest {age})</translation>
    </message>
    <message>
        <source>diag.result.dead_one</source>
        <translation>1 dead letter</translation>
    </message>
    <message>
        <source>diag.result.dead_many</source>
        <translation>{n} dead letters</translation>
    </message>
    <message>
        <source>diag.result.no_such_test</source>
        <translation>no such self-test '{name}'</translation>
    </message>
    <message>
        <source>diag.result.timeout</source>
        <translation>{test}: did not finish in {seconds:.0f} s</translation>
    </message>
    <message>
        <source>diag.result.error</source>
        <translation>{test}: error: {error}</translation>
    </message>
    <message>
        <source>diag.result.voice_none</source>
        <translation>no speech engine here (it runs in the terminal's window)</translation>
    </message>
    <message>
        <source>diag.result.voice_starting</source>
        <translation>voice: the speech engine is still starting</translation>
    </message>
    <message>
        <source>diag.result.voice_ok</source>
        <translation>voice working ({engine})</translation>
    </message>
    <message>
        <source>diag.result.voice_down</source>
        <translation>voice unavailable: {why}</translation>
    </message>
    <message>
        <source>diag.speech.not_installed</source>
        <translation>{engine} is not installed</translation>
    </message>
    <message>
        <source>diag.speech.failed</source>
        <translation>{engine} could not start</translation>
    </message>
    <message>
        <source>diag.speech.hung</source>
        <translation>{engine} does not answer</translation>
    </message>
    <message>
        <source>diag.speech.crashed</source>
        <translation>{engine} failed again and again and was switched off</translation>
    </message>
    <message>
        <source>diag.speech.no_library</source>
        <translation>the speech library (QtTextToSpeech) cannot load</translation>
    </message>
    <message>
        <source>diag.speech.engine</source>
        <translation>Engine {engine}</translation>
    </message>
    <message>
        <source>diag.noun.speech</source>
        <translation>voice</translation>
    </message>
    <message>
        <source>diag.state.starting</source>
        <translation>starting</translation>
    </message>
    <message>
        <source>diag.state.working</source>
        <translation>working</translation>
    </message>
    <message>
        <source>diag.state.unavailable</source>
        <translation>unavailable</translation>
    </message>
    <message>
        <source>diag.selftest.voice</source>
        <translation>Voice</translation>
    </message>
    <message>
        <source>diag.selftest.took</source>
        <translation>({s:.1f} s)</translation>
    </message>
    <message>
        <source>diag.age.seconds</source>
        <translation>{n} s</translation>
    </message>
    <message>
        <source>diag.age.minutes</source>
        <translation>{n} min</translation>
    </message>
    <message>
        <source>diag.age.hours</source>
        <translation>{n} h</translation>
    </message>
    <message>
        <source>diag.age.days</source>
        <translation>{n} days</translation>
    </message>
    <message>
        <source>diag.worker.title</source>
        <translation>Background workers</translation>
    </message>
    <message>
        <source>diag.worker.line</source>
        <translation>{name} · {state} · restarted {restarts} times</translation>
    </message>
    <message>
        <source>diag.worker.last</source>
        <translation>last crash {fault} ({at})</translation>
    </message>
    <message>
        <source>diag.worker.restarting</source>
        <translation>Background worker {name} failed and is restarting ({fault})</translation>
    </message>
    <message>
        <source>diag.worker.state.starting</source>
        <translation>starting</translation>
    </message>
    <message>
        <source>diag.worker.state.running</source>
        <translation>running</translation>
    </message>
    <message>
        <source>diag.worker.state.restarting</source>
        <translation>restarting</translation>
    </message>
    <message>
        <source>diag.worker.state.stopped</source>
        <translation>stopped</translation>
    </message>
    <message>
        <source>diag.time.date_time</source>
        <translation>{day} {month_name} {year} {time}</translation>
    </message>
    <message>
        <source>diag.fault.no_transport</source>
        <translation>no transport configured</translation>
    </message>
    <message>
        <source>diag.fault.bad_frame</source>
        <translation>garbled answers</translation>
    </message>
    <message>
        <source>diag.fault.incomplete</source>
        <translation>answer cut off</translation>
    </message>
    <message>
        <source>diag.fault.sam_self_test_failed</source>
        <translation>SAM module failed its self-test</translation>
    </message>
    <message>
        <source>diag.fault.sam_not_authorised</source>
        <translation>SAM module not authorised</translation>
    </message>
    <message>
        <source>diag.fault.pyscard_missing</source>
        <translation>pyscard not installed</translation>
    </message>
    <message>
        <source>diag.fault.dark</source>
        <translation>picture black (lens covered?)</translation>
    </message>
    <message>
        <source>diag.fault.ended</source>
        <translation>video file ended</translation>
    </message>
    <message>
        <source>diag.fault.no_source</source>
        <translation>no such video source</translation>
    </message>
    <message>
        <source>diag.fault.no_cascade</source>
        <translation>face detector files missing</translation>
    </message>
    <message>
        <source>diag.fault.camera.open_failed</source>
        <translation>cannot open the camera (unplugged?)</translation>
    </message>
    <message>
        <source>diag.fault.camera.read_failed</source>
        <translation>stopped delivering pictures</translation>
    </message>
    <message>
        <source>identify.title_either</source>
        <translation>Lay your ID card or social-security card</translation>
    </message>
    <message>
        <source>identify.hint_either</source>
        <translation>ID card on the reader below, social-security card on the pad to the right</translation>
    </message>
    <message>
        <source>alternative.staff.long</source>
        <translation>Greyed services are not available now: tap “Call staff” for help</translation>
    </message>
    <message>
        <source>alternative.number_on_screen.long</source>
        <translation>If the receipt cannot print, your number shows on screen</translation>
    </message>
</context>
</TS>
