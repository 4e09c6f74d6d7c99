/* test-qemu-launch.c: the argv of the domain-level XML CloudStack, nova and
 * virt-install send (boot files, firmware, sysinfo, timers, CPU modes,
 * iothreads, graphics, chardev logs, cputune) and vnic_qemu_domain_check(),
 * which define calls.  Pure: no QEMU runs. */
#include "test-qemu-helpers.h"

#include <string.h>

#define HEAD(machine, os_extra)                                                             \
    "<domain type='qemu'><name>t</name><uuid>8f1c6a40-6a39-4d1e-9b76-3c41f0c1a2b3</uuid>"  \
    "<memory unit='MiB'>128</memory><os><type machine='" machine "'>hvm</type>" os_extra   \
    "</os><features><acpi/></features>"

static VnicQemuCommand *
build(const char *xml)
{
    g_autoptr(VnicConfDomain) def = tq_parse(xml);
    g_autoptr(VnicQemuRuntime) rt = tq_describe_runtime(def);
    g_autoptr(GError) error = NULL;
    VnicQemuCommand *cmd = vnic_qemu_command_build(def, rt, &error);

    g_assert_no_error(error);
    return cmd;
}

static void
assert_check_fails(const char *xml, VnicQemuErrorCode code, const char *needle)
{
    g_autoptr(VnicConfDomain) def = tq_parse(xml);
    g_autoptr(GError) error = NULL;

    g_assert_false(vnic_qemu_domain_check(def, &error));
    g_assert_error(error, VNIC_QEMU_ERROR, (gint) code);
    if (strstr(error->message, needle) == NULL)
        g_error("message '%s' does not contain '%s'", error->message, needle);
}

static void
test_kernel_fds(void)
{
    g_autoptr(VnicQemuCommand) cmd =
        build(HEAD("pc", "<kernel>/boot/k</kernel><initrd>/boot/i</initrd><cmdline>x</cmdline>")
              "<devices/></domain>");

    /* the monitor is fd 3; kernel and initrd follow as memfds */
    g_assert_nonnull(tq_argv_find(cmd, "-kernel", "/proc/self/fd/4"));
    g_assert_nonnull(tq_argv_find(cmd, "-initrd", "/proc/self/fd/5"));
    g_assert_false(tq_argv_has(cmd, "/boot/k"));
}

static void
test_firmware(void)
{
    g_autoptr(VnicQemuCommand) cmd = build(
        HEAD("q35", "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>"
                    "<nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/var/x_VARS.fd</nvram>")
        "<devices/></domain>");
    g_autoptr(VnicQemuCommand) secure = build(
        HEAD("q35", "<loader readonly='yes' secure='yes' type='pflash'>/c.fd</loader>")
        "<devices/></domain>");

    g_assert_nonnull(tq_argv_find(cmd, "-add-fd", "set=0"));
    g_assert_nonnull(tq_argv_find(cmd, "-blockdev", "\"node-name\":\"vnic-pflash0-storage\","
                                                    "\"read-only\":true"));
    g_assert_nonnull(tq_argv_find(cmd, "-blockdev", "\"node-name\":\"vnic-pflash1-storage\","
                                                    "\"read-only\":false"));
    g_assert_true(tq_argv_has(cmd, "pflash0=vnic-pflash0-format,pflash1=vnic-pflash1-format"));
    g_assert_nonnull(tq_argv_find(secure, "-machine", "pflash1=vnic-pflash1-format,smm=on"));
    g_assert_true(tq_argv_has(secure, "driver=cfi.pflash01,property=secure,value=on"));
}

static void
test_sysinfo(void)
{
    g_autoptr(VnicQemuCommand) cmd = build(
        HEAD("pc", "<smbios mode='sysinfo'/>")
        "<sysinfo type='smbios'><bios><entry name='vendor'>V</entry></bios>"
        "<system><entry name='manufacturer'>Apache, CloudStack</entry>"
        "<entry name='product'>P</entry><entry name='serial'>S</entry>"
        "<entry name='uuid'>8f1c6a40-6a39-4d1e-9b76-3c41f0c1a2b3</entry>"
        "<entry name='family'>F</entry></system>"
        "<baseBoard><entry name='asset'>A</entry></baseBoard>"
        "<chassis><entry name='sku'>K</entry></chassis>"
        "<oemStrings><entry>one</entry><entry>two</entry></oemStrings></sysinfo>"
        "<sysinfo type='fwcfg'><entry name='opt/com.example/x'>hello</entry></sysinfo>"
        "<devices/></domain>");
    g_autoptr(VnicQemuCommand) emulate = build(
        HEAD("pc", "") "<sysinfo type='smbios'><system><entry name='product'>P</entry>"
        "</system></sysinfo><devices/></domain>");

    g_assert_true(tq_argv_has(cmd, "type=0,vendor=V"));
    /* commas in values are doubled, QEMU's escaping */
    g_assert_true(tq_argv_has(cmd, "type=1,manufacturer=Apache,, CloudStack,product=P,serial=S,"
                                   "uuid=8f1c6a40-6a39-4d1e-9b76-3c41f0c1a2b3,family=F"));
    g_assert_true(tq_argv_has(cmd, "type=2,asset=A"));
    g_assert_true(tq_argv_has(cmd, "type=3,sku=K"));
    g_assert_true(tq_argv_has(cmd, "type=11,value=one,value=two"));
    g_assert_true(tq_argv_has(cmd, "name=opt/com.example/x,string=hello"));
    /* like libvirt: without <smbios mode='sysinfo'> QEMU keeps its tables */
    g_assert_false(tq_argv_has(emulate, "-smbios"));
    assert_check_fails(HEAD("pc", "<smbios mode='sysinfo'/>")
                       "<sysinfo type='smbios'><system><entry name='uuid'>"
                       "00000000-0000-0000-0000-000000000001</entry></system></sysinfo>"
                       "<devices/></domain>",
                       VNIC_QEMU_ERROR_INVALID, "differs from the domain's <uuid>");
    assert_check_fails(HEAD("pc", "<smbios mode='host'/>") "<devices/></domain>",
                       VNIC_QEMU_ERROR_UNSUPPORTED, "'host' for <smbios mode>");
}

static void
test_timers_and_cpu(void)
{
    g_autoptr(VnicQemuCommand) cmd = build(
        HEAD("pc", "") "<cpu mode='host-model'/><clock offset='localtime'>"
        "<timer name='kvmclock' present='yes'/><timer name='hypervclock' present='no'/>"
        "<timer name='rtc' tickpolicy='catchup' track='guest'/>"
        "<timer name='pit' tickpolicy='delay'/></clock><devices/></domain>");
    g_autoptr(VnicQemuCommand) flags_only = build(
        HEAD("pc", "") "<clock offset='utc'><timer name='kvmclock' present='no'/>"
        "<timer name='rtc' track='wall'/></clock><devices/></domain>");
    g_autoptr(VnicQemuCommand) custom = build(
        HEAD("pc", "") "<cpu mode='custom' match='exact' check='partial'><model "
        "fallback='allow'>Nehalem</model><feature policy='require' name='x2apic'/></cpu>"
        "<clock offset='utc'><timer name='kvmclock' present='yes'/></clock><devices/></domain>");

    /* TCG: host-model is QEMU's "max", as libvirt's probed model would be */
    g_assert_true(tq_argv_has(cmd, "max,kvmclock=on,hv-time=off"));
    g_assert_true(tq_argv_has(cmd, "base=localtime,clock=vm,driftfix=slew"));
    g_assert_true(tq_argv_has(flags_only, "qemu64,kvmclock=off"));
    g_assert_true(tq_argv_has(flags_only, "base=utc,clock=host"));
    g_assert_true(tq_argv_has(custom, "Nehalem,x2apic=on,kvmclock=on"));
    assert_check_fails(HEAD("pc", "") "<cpu mode='host-passthrough'/><devices/></domain>",
                       VNIC_QEMU_ERROR_UNSUPPORTED, "'host-passthrough' for <cpu mode>");
    assert_check_fails(HEAD("pc", "") "<clock offset='utc'><timer name='tsc' frequency='1'/>"
                       "</clock><devices/></domain>",
                       VNIC_QEMU_ERROR_UNSUPPORTED, "frequency");
}

static void
test_clock_offsets(void)
{
    /* a described runtime's clock is the epoch: base = 0 + adjustment */
    g_autoptr(VnicQemuCommand) variable = build(
        HEAD("pc", "") "<clock offset='variable' adjustment='3661' basis='utc'/><devices/>"
        "</domain>");
    g_autoptr(VnicQemuCommand) zone = build(
        HEAD("pc", "") "<clock offset='timezone' timezone='Europe/Paris'/><devices/></domain>");

    g_assert_true(tq_argv_has(variable, "base=1970-01-01T01:01:01"));
    g_assert_null(variable->tz);
    g_assert_true(tq_argv_has(zone, "base=localtime"));
    g_assert_cmpstr(zone->tz, ==, "Europe/Paris");
    assert_check_fails(HEAD("pc", "") "<clock offset='timezone' timezone='../../etc/x'/>"
                       "<devices/></domain>",
                       VNIC_QEMU_ERROR_UNSUPPORTED, "<clock timezone>");
}

static void
test_iothreads(void)
{
    g_autoptr(VnicQemuCommand) cmd = build(
        HEAD("pc", "") "<iothreads>3</iothreads><iothreadids><iothread id='7'/></iothreadids>"
        "<devices><disk type='file' device='disk'><driver name='qemu' type='raw' iothread='7'/>"
        "<source file='/d.img'/><target dev='vda' bus='virtio'/></disk></devices></domain>");

    g_assert_true(tq_argv_has(cmd, "iothread,id=iothread7"));
    g_assert_true(tq_argv_has(cmd, "iothread,id=iothread1"));
    g_assert_true(tq_argv_has(cmd, "iothread,id=iothread2"));
    g_assert_false(tq_argv_has(cmd, "iothread,id=iothread3"));
    g_assert_nonnull(tq_argv_find(cmd, "-device", "virtio-blk-pci"));
    g_assert_nonnull(strstr(tq_argv_find(cmd, "-device", "virtio-blk-pci"), "iothread=iothread7"));
    assert_check_fails(HEAD("pc", "") "<iothreads>1</iothreads><devices><disk type='file' "
                       "device='disk'><driver name='qemu' iothread='2'/><source file='/d.img'/>"
                       "<target dev='vda' bus='virtio'/></disk></devices></domain>",
                       VNIC_QEMU_ERROR_INVALID, "<driver iothread='2'>");
}

static void
test_graphics(void)
{
    g_autoptr(VnicQemuCommand) vnc = build(
        HEAD("pc", "") "<devices><graphics type='vnc' port='5903' autoport='no' "
        "listen='0.0.0.0' passwd='s3cret' keymap='en-us'><listen type='address' "
        "address='0.0.0.0'/></graphics></devices></domain>");
    g_autoptr(VnicQemuCommand) sock = build(
        HEAD("pc", "") "<devices><graphics type='vnc'><listen type='socket' "
        "socket='/run/x/vnc.sock'/></graphics></devices></domain>");
    g_autoptr(VnicQemuCommand) spice = build(
        HEAD("pc", "") "<devices><graphics type='spice' port='5910' autoport='no' "
        "listen='127.0.0.1'/></devices></domain>");
    const VnicQemuQmpStep *step;

    g_assert_true(tq_argv_has(vnc, "0.0.0.0:3,password=on"));
    g_assert_true(tq_argv_has(vnc, "en-us"));
    g_assert_cmpuint(vnc->before_cont->len, ==, 1);
    step = g_ptr_array_index(vnc->before_cont, 0);
    g_assert_cmpstr(step->command, ==, "set_password");
    g_assert_true(step->secret);
    g_assert_cmpstr(json_object_get_string_member(step->args, "password"), ==, "s3cret");
    /* the password never reaches the command line */
    for (guint i = 0; i < vnc->argv->len && vnc->argv->pdata[i] != NULL; i++)
        g_assert_null(strstr(vnc->argv->pdata[i], "s3cret"));
    g_assert_true(tq_argv_has(sock, "unix:/run/x/vnc.sock"));
    g_assert_true(tq_argv_has(spice, "port=5910,addr=127.0.0.1,disable-ticketing=on,"
                                     "seamless-migration=on"));
    /* an autoport display is defined fine; its port is chosen at start */
    {
        g_autoptr(VnicConfDomain) def = tq_parse(HEAD("pc", "") "<devices><graphics "
                                                 "type='vnc' autoport='yes'/></devices></domain>");
        g_autoptr(GError) error = NULL;

        g_assert_true(vnic_qemu_domain_check(def, &error));
        g_assert_no_error(error);
        g_assert_null(vnic_qemu_vnc_display(def, &error));
        g_assert_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID);
    }
    {
        g_autoptr(VnicConfDomain) def = tq_parse(HEAD("pc", "") "<devices><graphics "
                                                 "type='vnc' port='5901' listen='0.0.0.0'/>"
                                                 "</devices></domain>");
        g_autoptr(VnicConfDomain) local = tq_parse(HEAD("pc", "") "<devices><graphics "
                                                   "type='vnc' port='5902'/></devices></domain>");
        g_autofree char *any = vnic_qemu_vnc_display(def, NULL);
        g_autofree char *lo = vnic_qemu_vnc_display(local, NULL);

        g_assert_cmpstr(any, ==, ":1");
        g_assert_cmpstr(lo, ==, "127.0.0.1:2");
    }
    {
        /* <listen type='socket'/>: defined fine, the path is vnicd's choice at start */
        g_autoptr(VnicConfDomain) def = tq_parse(HEAD("pc", "") "<devices><graphics "
                                                 "type='vnc'><listen type='socket'/></graphics>"
                                                 "</devices></domain>");
        g_autoptr(GError) error = NULL;
        g_autoptr(VnicQemuCommand) cmd = NULL;
        g_autoptr(VnicQemuRuntime) rt = vnic_qemu_runtime_new();

        g_assert_true(vnic_qemu_domain_check(def, &error));
        g_assert_true(vnic_qemu_graphics_default_sockets(def, "/run/vnic/qemu/t"));
        vnic_qemu_runtime_add_fds(rt, NULL, VNIC_QEMU_FD_MONITOR, NULL, 1);
        cmd = vnic_qemu_command_build(def, rt, &error);
        g_assert_no_error(error);
        g_assert_true(tq_argv_has(cmd, "unix:/run/vnic/qemu/t/vnc.sock"));
    }
    assert_check_fails(HEAD("pc", "") "<devices><graphics type='spice' tlsPort='5901'/>"
                       "</devices></domain>",
                       VNIC_QEMU_ERROR_UNSUPPORTED, "tlsPort");
}

static void
test_spice_channels(void)
{
    g_autoptr(VnicQemuCommand) cmd = build(
        HEAD("q35", "") "<devices><controller type='usb' index='0' model='qemu-xhci'/>"
        "<controller type='virtio-serial' index='0'/>"
        "<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>"
        "<graphics type='spice' port='5905' autoport='no'><image compression='off'/>"
        "<clipboard copypaste='no'/></graphics>"
        "<redirdev bus='usb' type='spicevmc'/><redirdev bus='usb' type='spicevmc'/>"
        "</devices></domain>");

    g_assert_true(tq_argv_has(cmd, "spicevmc,id=charchannel0,name=vdagent"));
    g_assert_nonnull(tq_argv_find(cmd, "-device", "name=com.redhat.spice.0"));
    g_assert_true(tq_argv_has(cmd, "port=5905,addr=127.0.0.1,disable-ticketing=on,"
                                   "image-compression=off,disable-copy-paste=on,"
                                   "seamless-migration=on"));
    g_assert_true(tq_argv_has(cmd, "spicevmc,id=charredir1,name=usbredir"));
    g_assert_true(tq_argv_has(cmd, "usb-redir,chardev=charredir1,id=redir1,bus=usb.0"));
    assert_check_fails(HEAD("pc", "") "<devices><redirdev bus='usb' type='spicevmc'/>"
                       "</devices></domain>",
                       VNIC_QEMU_ERROR_UNSUPPORTED, "over SPICE only");
}

static void
test_chardevs(void)
{
    g_autoptr(VnicQemuCommand) cmd = build(
        HEAD("pc", "") "<devices><console type='pty'><target type='serial' port='0'/>"
        "<log file='/var/log/c.log' append='on'/></console></devices></domain>");

    /* the console stands in for the serial libvirt would add */
    g_assert_nonnull(tq_argv_find(cmd, "-device", "isa-serial,chardev=charconsole0"));
    g_assert_nonnull(tq_argv_find(cmd, "-chardev", "pty,id=charconsole0,logfile=/dev/fdset/0,"
                                                   "logappend=on"));
    g_assert_nonnull(tq_argv_find(cmd, "-add-fd", "set=0"));
    {
        /* a console showing a serial logs through the serial */
        g_autoptr(VnicQemuCommand) both = build(
            HEAD("pc", "") "<devices><serial type='pty'><target port='0'/></serial>"
            "<console type='pty'><target type='serial' port='0'/><log file='/l.log'/></console>"
            "</devices></domain>");

        g_assert_nonnull(tq_argv_find(both, "-chardev", "pty,id=charserial0,logfile=/dev/fdset/0"));
    }
    assert_check_fails(HEAD("pc", "") "<devices><serial type='pty'><target port='0'/>"
                       "<log file='/a.log'/></serial><console type='pty'><target type='serial' "
                       "port='0'/><log file='/b.log'/></console></devices></domain>",
                       VNIC_QEMU_ERROR_UNSUPPORTED, "differs from the <log>");
}

/* libvirt's XML of a guest-agent channel whose socket it names itself has
 * no <source>: a socket vnicd binds, as for mode='bind'. */
static void
test_unix_channel_without_source(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(
        HEAD("pc", "") "<devices><controller type='virtio-serial' index='0'/>"
        "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
        "</devices></domain>");
    g_autoptr(GError) error = NULL;

    g_assert_true(vnic_qemu_domain_check(def, &error));
    g_assert_no_error(error);
}

static void
test_balloon_stats(void)
{
    g_autoptr(VnicQemuCommand) cmd = build(
        HEAD("pc", "") "<devices><memballoon model='virtio'><stats period='10'/></memballoon>"
        "</devices></domain>");
    const VnicQemuQmpStep *step;

    g_assert_cmpuint(cmd->before_cont->len, ==, 1);
    step = g_ptr_array_index(cmd->before_cont, 0);
    g_assert_cmpstr(step->command, ==, "qom-set");
    g_assert_cmpstr(json_object_get_string_member(step->args, "path"), ==,
                    "/machine/peripheral/balloon0");
    g_assert_cmpint(json_object_get_int_member(step->args, "value"), ==, 10);
}

static void
test_cputune(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(
        HEAD("pc", "") "<vcpu>2</vcpu><cputune><shares>2048</shares><period>100000</period>"
        "<quota>30000</quota><vcpupin vcpu='0' cpuset='1'/></cputune><devices/></domain>");
    g_autoptr(VnicConfDomain) global = tq_parse(
        HEAD("pc", "") "<cputune><global_period>50000</global_period>"
        "<global_quota>-1</global_quota></cputune><devices/></domain>");
    VnicQemuCpuTune tune;
    g_autoptr(GError) error = NULL;

    g_assert_true(vnic_qemu_cputune(def, &tune, &error));
    g_assert_true(tune.set);
    g_assert_cmpuint(tune.shares, ==, 2048);
    g_assert_cmpuint(tune.period_us, ==, 100000);
    g_assert_cmpint(tune.quota_us, ==, 60000); /* per vCPU, two vCPUs */
    g_assert_true(vnic_qemu_cputune(global, &tune, &error));
    g_assert_cmpuint(tune.period_us, ==, 50000);
    g_assert_cmpint(tune.quota_us, ==, -1);
    assert_check_fails(HEAD("pc", "") "<cputune><quota>10</quota></cputune><devices/></domain>",
                       VNIC_QEMU_ERROR_INVALID, "<cputune><quota>");
    assert_check_fails(HEAD("pc", "") "<cputune><emulator_quota>10000</emulator_quota>"
                       "</cputune><devices/></domain>",
                       VNIC_QEMU_ERROR_UNSUPPORTED, "<cputune><emulator_quota>");
}

static void
test_features(void)
{
    g_autoptr(VnicQemuCommand) cmd = build(
        "<domain type='qemu'><name>t</name><memory unit='MiB'>128</memory>"
        "<os><type machine='q35'>hvm</type></os><features><acpi/><apic/><pae/>"
        "<hyperv mode='custom'><relaxed state='on'/><vapic state='on'/>"
        "<spinlocks state='on' retries='8191'/><synic state='off'/></hyperv>"
        "<kvm><hidden state='on'/></kvm><vmcoreinfo state='on'/><smm state='on'/>"
        "<pmu state='off'/></features><devices/></domain>");

    /* what libvirt 9.0 writes for the same XML under TCG */
    g_assert_true(tq_argv_has(cmd, "qemu64,hv-relaxed=on,hv-vapic=on,hv-spinlocks=0x1fff,"
                                   "kvm=off,pmu=off"));
    g_assert_nonnull(tq_argv_find(cmd, "-machine", "q35,accel=tcg,usb=off,smm=on"));
    g_assert_true(tq_argv_has(cmd, "vmcoreinfo"));
    assert_check_fails("<domain type='qemu'><name>t</name><memory unit='MiB'>128</memory>"
                       "<os><type machine='pc'>hvm</type></os><features><hyperv>"
                       "<vpindex state='on'/></hyperv></features><devices/></domain>",
                       VNIC_QEMU_ERROR_UNSUPPORTED, "needs type='kvm'");
}

static void
test_affinity(void)
{
    g_autoptr(VnicQemuCommand) cmd = build(
        HEAD("pc", "") "<vcpu placement='static' cpuset='0-3,^1'>2</vcpu><cputune>"
        "<vcpupin vcpu='1' cpuset='2'/><emulatorpin cpuset='0'/></cputune><devices/></domain>");
    const GArray *v0, *v1;

    g_assert_nonnull(cmd->process_affinity);
    g_assert_cmpuint(cmd->process_affinity->len, ==, 1);
    g_assert_cmpuint(g_array_index(cmd->process_affinity, guint, 0), ==, 0);
    g_assert_cmpuint(cmd->vcpu_affinity->len, ==, 2);
    v0 = g_ptr_array_index(cmd->vcpu_affinity, 0); /* <vcpu cpuset>: 0, 2, 3 */
    v1 = g_ptr_array_index(cmd->vcpu_affinity, 1);
    g_assert_cmpuint(v0->len, ==, 3);
    g_assert_cmpuint(g_array_index(v0, guint, 1), ==, 2);
    g_assert_cmpuint(v1->len, ==, 1);
    g_assert_cmpuint(g_array_index(v1, guint, 0), ==, 2);
    assert_check_fails(HEAD("pc", "") "<vcpu cpuset='1-x'>1</vcpu><devices/></domain>",
                       VNIC_QEMU_ERROR_INVALID, "'1-x' for <vcpu cpuset>");
    assert_check_fails(HEAD("pc", "") "<cputune><vcpupin vcpu='3' cpuset='0'/></cputune>"
                       "<devices/></domain>",
                       VNIC_QEMU_ERROR_INVALID, "'3' for <vcpupin vcpu>");
}

/* What CloudStack and nova send at domain level passes the check. */
static void
test_check_accepts_tools_xml(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(
        "<domain type='qemu'><name>i-2-10-VM</name>"
        "<uuid>8f1c6a40-6a39-4d1e-9b76-3c41f0c1a2b3</uuid><description>x</description>"
        "<memory unit='KiB'>524288</memory><currentMemory unit='KiB'>524288</currentMemory>"
        "<vcpu placement='static'>1</vcpu><resource><partition>/machine</partition></resource>"
        "<cputune><shares>250</shares></cputune>"
        "<sysinfo type='smbios'><system><entry name='manufacturer'>Apache Software Foundation"
        "</entry><entry name='product'>CloudStack KVM Hypervisor</entry>"
        "<entry name='uuid'>8f1c6a40-6a39-4d1e-9b76-3c41f0c1a2b3</entry></system></sysinfo>"
        "<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='cdrom'/><boot dev='hd'/>"
        "<smbios mode='sysinfo'/></os><features><acpi/><apic/><pae/></features>"
        "<cpu mode='host-model'><topology sockets='1' cores='1' threads='1'/></cpu>"
        "<clock offset='utc'><timer name='kvmclock'/></clock>"
        "<on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot>"
        "<on_crash>destroy</on_crash>"
        "<devices><serial type='pty'><target port='0'/></serial><console type='pty'>"
        "<target type='serial' port='0'/></console>"
        "<graphics type='vnc' autoport='yes' listen='0.0.0.0' passwd='p'/>"
        "<memballoon model='virtio'><stats period='10'/></memballoon></devices></domain>");
    g_autoptr(VnicConfDomain) nova = tq_parse(
        "<domain type='qemu'><uuid>8f1c6a40-6a39-4d1e-9b76-3c41f0c1a2b3</uuid>"
        "<name>instance-00000001</name><memory>524288</memory><vcpu>1</vcpu>"
        "<metadata><nova:instance xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.1'>"
        "<nova:name>vm1</nova:name></nova:instance></metadata>"
        "<sysinfo type='smbios'><system><entry name='manufacturer'>OpenStack Foundation</entry>"
        "<entry name='product'>OpenStack Nova</entry><entry name='version'>27.0.0</entry>"
        "<entry name='serial'>8f1c6a40-6a39-4d1e-9b76-3c41f0c1a2b3</entry>"
        "<entry name='uuid'>8f1c6a40-6a39-4d1e-9b76-3c41f0c1a2b3</entry>"
        "<entry name='family'>Virtual Machine</entry></system></sysinfo>"
        "<os><type machine='q35'>hvm</type><boot dev='hd'/><smbios mode='sysinfo'/></os>"
        "<features><acpi/><apic/><vmcoreinfo/></features>"
        "<clock offset='utc'><timer name='pit' tickpolicy='delay'/>"
        "<timer name='rtc' tickpolicy='catchup'/><timer name='hpet' present='no'/></clock>"
        "<cpu mode='host-model' match='exact'><topology sockets='1' cores='1' threads='1'/></cpu>"
        "<devices><disk type='file' device='disk'><driver name='qemu' type='raw' cache='none'/>"
        "<source file='/var/lib/nova/instances/x/disk'/><target dev='vda' bus='virtio'/></disk>"
        "<serial type='pty'><log file='/var/lib/nova/instances/x/console.log' append='off'/>"
        "</serial><graphics type='vnc' autoport='yes' listen='0.0.0.0'/>"
        "<video><model type='virtio'/></video><input type='tablet' bus='usb'/>"
        "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
        "<controller type='usb' index='0'/>"
        "<memballoon model='virtio'><stats period='10'/></memballoon></devices></domain>");
    g_autoptr(GError) error = NULL;

    g_assert_true(vnic_qemu_domain_check(def, &error));
    g_assert_no_error(error);
    g_assert_true(vnic_qemu_domain_check(nova, &error));
    g_assert_no_error(error);
}

void
test_qemu_launch_register(void)
{
    g_test_add_func("/qemu/launch/kernel-fds", test_kernel_fds);
    g_test_add_func("/qemu/launch/firmware", test_firmware);
    g_test_add_func("/qemu/launch/sysinfo", test_sysinfo);
    g_test_add_func("/qemu/launch/timers-cpu", test_timers_and_cpu);
    g_test_add_func("/qemu/launch/clock-offsets", test_clock_offsets);
    g_test_add_func("/qemu/launch/iothreads", test_iothreads);
    g_test_add_func("/qemu/launch/graphics", test_graphics);
    g_test_add_func("/qemu/launch/chardevs", test_chardevs);
    g_test_add_func("/qemu/launch/spice-channels", test_spice_channels);
    g_test_add_func("/qemu/launch/balloon-stats", test_balloon_stats);
    g_test_add_func("/qemu/launch/unix-channel-no-source", test_unix_channel_without_source);
    g_test_add_func("/qemu/launch/cputune", test_cputune);
    g_test_add_func("/qemu/launch/features", test_features);
    g_test_add_func("/qemu/launch/affinity", test_affinity);
    g_test_add_func("/qemu/launch/check-tools-xml", test_check_accepts_tools_xml);
}
